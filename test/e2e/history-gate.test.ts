import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../cli/program.js';
import {
  HISTORY_PARTITION_KEY,
  HISTORY_SORT_KEY,
  HISTORY_TTL_ATTRIBUTE,
  historyPartitionOf,
  WATCH_PARTITION,
} from '../../contract/history-table.js';
import { VerdictHistory } from '../../lambdas/core/history/verdict-history.js';
import type { Observation, Router } from '../../lambdas/core/observation.js';
import { routersFrom } from '../../lambdas/core/routers/index.js';
import { createGate, type GateAnswer, type GateResponse } from '../../lambdas/gate/gate.js';
import { ClusterTokens } from '../../lambdas/ingest/cluster-tokens.js';
import { digestOf } from '../../lambdas/ingest/token-store.js';
import { type DynamoDbSim, startDynamoDbSim } from '../../sim/dynamodb.js';
import { functionUrlEvent } from '../../sim/function-url-event.js';
import { healthyAlbObservation } from '../support/alb-observation.js';
import { captureCliIo } from '../support/cli-io.js';
import { KubeDouble } from '../support/kube-double.js';
import { verdictDetail } from '../support/verdicts.js';

/**
 * The verdict history on the DynamoDB simulator (real SDK client, sort keys, Query), read by the
 * CLI's `history` and by the analysis gate, whose answers are checked as Argo's web metric reads them.
 */

const TABLE = 'history';
const TOKEN = 'prod-cluster-token-0123456789abcdef';
const UID = '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f';
let sim: DynamoDbSim;
let history: VerdictHistory;
const now = new Date('2026-12-07T03:00:00.000Z');

beforeAll(async () => {
  sim = await startDynamoDbSim({
    tables: { [TABLE]: { partitionKey: HISTORY_PARTITION_KEY, sortKey: HISTORY_SORT_KEY } },
  });
  history = new VerdictHistory({
    client: client(),
    tableName: TABLE,
    retentionSeconds: 7 * 86_400,
    now: () => now,
  });
});
afterAll(() => sim.close());

function client() {
  return new DynamoDBClient({
    endpoint: sim.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
  });
}

const rollout = { cluster: 'prod', namespace: 'shop', name: 'checkout' };
const verdictAt = (revision: number, step: number, verdict: 'Succeeded' | 'Failed', decidedAt: string) =>
  verdictDetail({
    verdict,
    verdictId: `v-${revision}-${step}-${verdict}`,
    rollout: { namespace: 'shop', name: 'checkout', uid: UID, revision, podTemplateHash: `hash${revision}` },
    step: { index: step },
    decidedAt,
  });

describe('VerdictHistory on the DynamoDB simulator', () => {
  beforeAll(async () => {
    await history.record(verdictAt(3, 0, 'Succeeded', '2026-12-07T02:00:00.000Z'), 'verify');
    await history.record(verdictAt(4, 0, 'Failed', '2026-12-07T02:10:00.000Z'), 'verify');
    await history.record(verdictAt(4, 2, 'Succeeded', '2026-12-07T02:20:00.000Z'), 'gate');
  });

  test('a redelivered verdict is kept once', async () => {
    expect(await history.record(verdictAt(3, 0, 'Succeeded', '2026-12-07T02:00:00.000Z'), 'verify')).toBe(
      false,
    );
    const verdictItems = sim
      .items(TABLE)
      .filter(
        (item) => JSON.stringify(item[HISTORY_PARTITION_KEY]) !== JSON.stringify({ S: WATCH_PARTITION }),
      );
    expect(verdictItems).toHaveLength(3);
  });

  test('the watch list follows the newest verdict of each rollout; a late older one changes nothing', async () => {
    expect(await history.watched()).toEqual([
      {
        cluster: 'prod',
        namespace: 'shop',
        name: 'checkout',
        uid: UID,
        revision: 4,
        state: 'progressing',
        lastVerdict: 'Succeeded',
        lastVerifiedAt: '2026-12-07T02:20:00.000Z',
      },
    ]);
    const watchedAt = (name: string) =>
      history.watched().then((all) => all.find((entry) => entry.name === name));
    const late = (
      decidedAt: string,
      trigger: 'on-rollout-step-completed' | 'on-rollout-completed',
      id: string,
    ) =>
      verdictDetail({
        verdictId: id,
        trigger,
        rollout: { namespace: 'shop', name: 'watched', uid: UID, revision: 1 },
        decidedAt,
      });
    await history.record(late('2026-12-07T02:30:00.000Z', 'on-rollout-completed', 'w-completed'), 'verify');
    expect(await watchedAt('watched')).toMatchObject({
      state: 'settled',
      settledAt: '2026-12-07T02:30:00.000Z',
    });
    await history.record(late('2026-12-07T02:10:00.000Z', 'on-rollout-step-completed', 'w-older'), 'verify');
    expect(await watchedAt('watched')).toMatchObject({
      state: 'settled',
      lastVerifiedAt: '2026-12-07T02:30:00.000Z',
    });
  });

  test('items carry the rollout key, the sort key and the TTL (recorded at + retention)', () => {
    const [first] = sim.items(TABLE);
    expect(first?.[HISTORY_PARTITION_KEY]).toEqual({ S: historyPartitionOf(rollout) });
    expect(first?.[HISTORY_SORT_KEY]).toEqual({
      S: 'r0000000003#s00000#2026-12-07T02:00:00.000Z#v-3-0-Succeeded',
    });
    expect(first?.[HISTORY_TTL_ATTRIBUTE]).toEqual({ N: String(now.getTime() / 1000 + 7 * 86_400) });
  });

  test('the timeline is oldest first; a revision filter keeps that revision only', async () => {
    const all = await history.timeline(rollout);
    expect(all.map((entry) => entry.verdict.verdictId)).toEqual([
      'v-3-0-Succeeded',
      'v-4-0-Failed',
      'v-4-2-Succeeded',
    ]);
    expect(all.map((entry) => entry.source)).toEqual(['verify', 'verify', 'gate']);
    const four = await history.timeline(rollout, { revision: 4 });
    expect(four.map((entry) => entry.verdict.rollout.revision)).toEqual([4, 4]);
    // Another cluster's rollout of the same name is another timeline.
    expect(await history.timeline({ ...rollout, cluster: 'staging' })).toEqual([]);
  });

  test('pages are followed (LastEvaluatedKey) and bounded by the limit', async () => {
    const other = { ...rollout, name: 'paged' };
    for (let step = 0; step < 7; step++) {
      await history.record(
        verdictDetail({
          verdictId: `paged-${step}`,
          rollout: { namespace: 'shop', name: 'paged', uid: UID, revision: 1 },
          step: { index: step },
        }),
        'verify',
      );
    }
    expect(await history.timeline(other)).toHaveLength(7);
    expect(await history.timeline(other, { limit: 3 })).toHaveLength(3);
    const queries = sim.calls.filter((call) => call.operation === 'Query').length;
    expect(queries).toBeGreaterThan(2);
  });

  test('rollout-verifier history prints the timeline, and --json the entries', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIATEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    const common = [
      '--table',
      TABLE,
      '--endpoint-url',
      sim.endpoint,
      '--region',
      'eu-west-1',
      '--cluster',
      'prod',
    ];
    const text = captureCliIo();
    expect(await runCli(['history', 'shop/checkout', ...common], text.io)).toBe(0);
    const lines = text.stdout().trim().split('\n');
    expect(lines[0]).toBe('shop/checkout: 3 verdict(s), oldest first');
    expect(lines[2]).toMatch(
      /^2026-12-07T02:10:00.000Z {2}rev 4 {2}step 0 {2}Failed .*\[verify on-rollout-step-completed\] {2}WeightMismatch$/,
    );

    const json = captureCliIo();
    expect(await runCli(['history', 'shop/checkout', ...common, '--revision', '3', '--json'], json.io)).toBe(
      0,
    );
    const parsed = JSON.parse(json.stdout()) as { entries: Array<{ verdict: { verdictId: string } }> };
    expect(parsed.entries.map((entry) => entry.verdict.verdictId)).toEqual(['v-3-0-Succeeded']);
  });

  test.each([
    [['history', 'shop'], /must be <namespace>\/<name>/],
    [['history', 'shop/Checkout', '--table', TABLE], /DNS-1123/],
    [['history', 'shop/checkout', '--table', TABLE, '--revision', 'x'], /--revision/],
    [['history', 'shop/checkout'], /--table <DynamoDB table> or --url/],
  ])('bad input %j: a usage error, nothing read', async (argv, message) => {
    const io = captureCliIo();
    const before = sim.calls.length;
    expect(await runCli(argv, io.io)).toBe(64);
    expect(io.stderr()).toMatch(message);
    expect(sim.calls.length).toBe(before);
  });
});

// ---- the analysis gate ------------------------------------------------------------------------------

const STEPS = [
  { setWeight: 20 },
  { analysis: { templates: [{ templateName: 'rollout-verifier', clusterScope: true }] } },
  { setWeight: 50 },
];

function liveRollout(stepIndex: number, revision = '7') {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'gated',
      namespace: 'shop',
      uid: UID,
      resourceVersion: '100',
      generation: 2,
      annotations: { 'rollout.argoproj.io/revision': revision },
    },
    spec: {
      replicas: 2,
      strategy: {
        canary: {
          canaryService: 'gated-canary',
          stableService: 'gated',
          steps: STEPS,
          trafficRouting: { alb: { ingress: 'gated', servicePort: 80 } },
        },
      },
    },
    status: {
      currentPodHash: 'hash7',
      stableRS: 'hash6',
      currentStepIndex: stepIndex,
      phase: 'Progressing',
      replicas: 4,
      updatedReplicas: 2,
      readyReplicas: 4,
      availableReplicas: 4,
      canary: {
        weights: {
          canary: { weight: 20, podTemplateHash: 'hash7', serviceName: 'gated-canary' },
          stable: { weight: 80, podTemplateHash: 'hash6', serviceName: 'gated' },
        },
      },
    },
  };
}

/** What the ALB carries in these tests: canary `weight` of 100, healthy targets on both sides. */
function albRouter(weight: () => number): Router & { observations: number } {
  const router = {
    kind: 'alb' as const,
    observations: 0,
    async observe(): Promise<Observation> {
      router.observations++;
      const canary = weight();
      return healthyAlbObservation(canary);
    },
  };
  return router;
}

function gateWith(
  options: {
    weight?: () => number;
    kube?: KubeDouble;
    deadlineSeconds?: number;
    waitForStoredMs?: number;
  } = {},
) {
  const kube = options.kube ?? new KubeDouble();
  const router = albRouter(options.weight ?? (() => 20));
  const gate = createGate({
    tokens: new ClusterTokens([
      {
        cluster: 'prod',
        tokens: {
          knownTokens: async () => [{ stage: 'AWSCURRENT', digest: digestOf(TOKEN), expired: false }],
        },
      },
    ]),
    history,
    kubeFor: async () => kube,
    routers: routersFrom([router]),
    verify: { deadlineSeconds: options.deadlineSeconds ?? 2, initialDelayMs: 50, maxDelayMs: 100 },
    timeLeftMs: () => 10_000,
    waitForStoredMs: options.waitForStoredMs ?? 0,
    pollIntervalMs: 20,
  });
  return { gate, kube, router };
}

const request = (path: string, query: Record<string, string>, token = TOKEN, method = 'GET') =>
  functionUrlEvent({ token, query, method, path });

/** As Argo's web provider: 2xx or a measurement error; the body's verdict against the template's conditions. */
function argoMeasurement(response: GateResponse): 'Successful' | 'Failed' | 'Inconclusive' | 'Error' {
  if (response.statusCode < 200 || response.statusCode >= 300) return 'Error';
  const result = JSON.parse(response.body) as GateAnswer;
  if (result.verdict === 'Failed') return 'Failed';
  if (result.verdict === 'Succeeded') return 'Successful';
  return 'Inconclusive';
}

describe('the analysis gate', () => {
  const analysis = { namespace: 'shop', name: 'gated', podTemplateHash: 'hash7', cluster: 'prod' };

  test('no stored verdict: verified on demand, answered and kept (source gate)', async () => {
    const { gate, kube, router } = gateWith();
    kube.put('argoproj.io', 'rollouts', 'shop', 'gated', liveRollout(1));
    const response = await gate(request('/analysis', analysis));
    expect(response.statusCode).toBe(200);
    const answer = JSON.parse(response.body) as GateAnswer;
    expect(answer).toMatchObject({ verdict: 'Succeeded', source: 'observed', step: { index: 1 } });
    expect(argoMeasurement(response)).toBe('Successful');
    expect(router.observations).toBeGreaterThan(0);
    const kept = await history.timeline({ ...rollout, name: 'gated' }, { revision: 7 });
    expect(kept.map((entry) => [entry.source, entry.verdict.verdict])).toEqual([['gate', 'Succeeded']]);
  });

  test('a stored verdict of the setWeight before the analysis step is answered without observing', async () => {
    const stored = verdictDetail({
      verdict: 'Failed',
      verdictId: 'stored-failed',
      rollout: { namespace: 'shop', name: 'stored', uid: UID, revision: 7, podTemplateHash: 'hash7' },
      step: { index: 0 },
      expected: { canaryWeight: 20, stableWeight: 80 },
      decidedAt: '2026-12-07T02:59:00.000Z',
    });
    await history.record(stored, 'verify');
    const { gate, kube, router } = gateWith();
    kube.put('argoproj.io', 'rollouts', 'shop', 'stored', {
      ...liveRollout(1),
      metadata: { ...liveRollout(1).metadata, name: 'stored' },
    });
    const response = await gate(request('/analysis', { ...analysis, name: 'stored' }));
    expect(JSON.parse(response.body)).toMatchObject({
      verdict: 'Failed',
      source: 'stored',
      verdictId: 'stored-failed',
    });
    expect(argoMeasurement(response)).toBe('Failed');
    expect(router.observations).toBe(0);
    // fresh=true (background analysis) observes anyway.
    const fresh = await gate(request('/analysis', { ...analysis, name: 'stored', fresh: 'true' }));
    expect(JSON.parse(fresh.body)).toMatchObject({ verdict: 'Succeeded', source: 'observed' });
    expect(router.observations).toBeGreaterThan(0);
  });

  test('a verdict the verify function stores while the gate waits is answered, nothing observed twice', async () => {
    const { gate, kube, router } = gateWith({ waitForStoredMs: 5_000 });
    const object = liveRollout(1);
    kube.put('argoproj.io', 'rollouts', 'shop', 'waiting', {
      ...object,
      metadata: { ...object.metadata, name: 'waiting' },
    });
    const answer = gate(request('/analysis', { ...analysis, name: 'waiting' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await history.record(
      verdictDetail({
        verdictId: 'verify-while-waiting',
        rollout: { namespace: 'shop', name: 'waiting', uid: UID, revision: 7, podTemplateHash: 'hash7' },
        step: { index: 0 },
      }),
      'verify',
    );
    expect(JSON.parse((await answer).body)).toMatchObject({
      source: 'stored',
      verdictId: 'verify-while-waiting',
    });
    expect(router.observations).toBe(0);
  });

  test('weights that never arrive: Failed once the deadline passes, with the finding', async () => {
    const { gate, kube } = gateWith({ weight: () => 10, deadlineSeconds: 1 });
    kube.put('argoproj.io', 'rollouts', 'shop', 'wrong', {
      ...liveRollout(1),
      metadata: { ...liveRollout(1).metadata, name: 'wrong' },
    });
    const response = await gate(request('/analysis', { ...analysis, name: 'wrong' }));
    const answer = JSON.parse(response.body) as GateAnswer;
    expect(answer.verdict).toBe('Failed');
    expect(answer.findings.map((finding) => finding.code)).toContain('WeightMismatch');
    expect(argoMeasurement(response)).toBe('Failed');
  });

  test('what the gate cannot see is Inconclusive (Argo pauses), never Failed', async () => {
    const { gate, kube } = gateWith();
    const missing = await gate(request('/analysis', { ...analysis, name: 'absent' }));
    expect(JSON.parse(missing.body)).toMatchObject({
      verdict: 'Inconclusive',
      findings: [{ code: 'ResourceNotFound' }],
    });
    kube.put('argoproj.io', 'rollouts', 'shop', 'gated', liveRollout(1));
    const moved = await gate(request('/analysis', { ...analysis, podTemplateHash: 'older1' }));
    expect(JSON.parse(moved.body)).toMatchObject({
      verdict: 'Inconclusive',
      findings: [{ code: 'RolloutMovedOn' }],
    });
    kube.fail({ plural: 'rollouts' }, 403);
    const denied = await gate(request('/analysis', analysis));
    expect(JSON.parse(denied.body)).toMatchObject({
      verdict: 'Inconclusive',
      findings: [{ code: 'AccessDenied' }],
    });
    expect([missing, moved, denied].map(argoMeasurement)).toEqual([
      'Inconclusive',
      'Inconclusive',
      'Inconclusive',
    ]);
  });

  test('authentication: the webhook tokens, bound to their cluster', async () => {
    const { gate, kube } = gateWith();
    const reads = () => kube.requests.length;
    const before = reads();
    expect((await gate(request('/analysis', analysis, 'wrong-token-0123456789'))).statusCode).toBe(401);
    expect((await gate(request('/analysis', { ...analysis, cluster: 'staging' }))).statusCode).toBe(401);
    expect((await gate({ ...request('/analysis', analysis), headers: {} })).statusCode).toBe(401);
    expect(reads()).toBe(before);
  });

  test.each([
    [{ namespace: 'shop' }, /query parameter name/],
    [{ namespace: 'Shop', name: 'gated' }, /query parameter namespace/],
    [{ namespace: 'shop', name: 'gated', podTemplateHash: '../x' }, /podTemplateHash/],
  ])('bad query %j: 400 naming the parameter, nothing read', async (query, message) => {
    const { gate, kube } = gateWith();
    const response = await gate(request('/analysis', { cluster: 'prod', ...query }));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
    expect(kube.requests).toHaveLength(0);
  });

  test('/history answers the timeline of the token’s cluster; unknown paths and methods are refused', async () => {
    const { gate } = gateWith();
    const response = await gate(
      request('/history', { namespace: 'shop', name: 'checkout', cluster: 'prod' }),
    );
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { entries: Array<{ verdict: { verdictId: string } }> };
    expect(body.entries.map((entry) => entry.verdict.verdictId)).toEqual([
      'v-3-0-Succeeded',
      'v-4-0-Failed',
      'v-4-2-Succeeded',
    ]);
    expect((await gate(request('/elsewhere', { namespace: 'shop', name: 'checkout' }))).statusCode).toBe(404);
    expect((await gate(request('/history', {}, TOKEN, 'POST'))).statusCode).toBe(405);
  });
});
