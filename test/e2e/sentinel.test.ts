import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../contract/event-catalog.js';
import { HISTORY_PARTITION_KEY, HISTORY_SORT_KEY } from '../../contract/history-table.js';
import { DriftEventDetail } from '../../lambdas/core/contracts/drift-event.js';
import { VerdictHistory } from '../../lambdas/core/history/verdict-history.js';
import type { Observation, Router } from '../../lambdas/core/observation.js';
import { DescribeBudget } from '../../lambdas/core/routers/alb/describe-budget.js';
import { routersFrom } from '../../lambdas/core/routers/index.js';
import { runSentinel, type SentinelDependencies } from '../../lambdas/sentinel/sentinel.js';
import { type DynamoDbSim, startDynamoDbSim } from '../../sim/dynamodb.js';
import { type EventBridgeSim, startEventBridgeSim } from '../../sim/eventbridge/index.js';
import { healthyAlbObservation } from '../support/alb-observation.js';
import { KubeDouble } from '../support/kube-double.js';
import { verdictDetail } from '../support/verdicts.js';

/**
 * The drift sentinel against the history on the DynamoDB simulator and a bus on the EventBridge
 * simulator: which rollouts it re-verifies, when it publishes drift, and its Describe budget.
 */

const TABLE = 'history';
const UID = '9b1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f';
const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'test' };
let dynamo: DynamoDbSim;
let bus: EventBridgeSim;
let history: VerdictHistory;
const NOW = new Date();
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

beforeAll(async () => {
  [dynamo, bus] = await Promise.all([
    startDynamoDbSim({
      tables: { [TABLE]: { partitionKey: HISTORY_PARTITION_KEY, sortKey: HISTORY_SORT_KEY } },
    }),
    startEventBridgeSim({ region: 'eu-west-1' }),
  ]);
  history = new VerdictHistory({
    client: new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-1', credentials }),
    tableName: TABLE,
    retentionSeconds: 86_400,
  });
});
afterAll(async () => {
  await Promise.all([dynamo.close(), bus.close()]);
});

function liveRollout(name: string, currentStepIndex: number) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name,
      namespace: 'shop',
      uid: UID,
      resourceVersion: '7',
      generation: 1,
      annotations: { 'rollout.argoproj.io/revision': '2' },
    },
    spec: {
      replicas: 2,
      strategy: {
        canary: {
          canaryService: `${name}-canary`,
          stableService: name,
          steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }],
          trafficRouting: { alb: { ingress: name, servicePort: 80 } },
        },
      },
    },
    status: {
      currentPodHash: 'new2',
      stableRS: 'old1',
      currentStepIndex,
      phase: 'Paused',
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: minutesAgo(30) }],
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 3,
      availableReplicas: 3,
    },
  };
}

/** The ALB: canary `weights[rollout]` of 100 on one rule, healthy targets. */
function albRouter(weights: Record<string, number>): Router & { observed: string[] } {
  const router = {
    kind: 'alb' as const,
    observed: [] as string[],
    async observe(event: { rollout: { name: string } }): Promise<Observation> {
      router.observed.push(event.rollout.name);
      const canary = weights[event.rollout.name] ?? 0;
      return healthyAlbObservation(canary, event.rollout.name);
    },
  };
  return router as Router & { observed: string[] };
}

async function remember(
  name: string,
  verdict: 'Succeeded' | 'Failed',
  decidedAt: string,
  trigger = 'on-rollout-step-completed',
) {
  await history.record(
    verdictDetail({
      verdict,
      verdictId: `${name}-${decidedAt}`,
      trigger: trigger as never,
      rollout: { namespace: 'shop', name, uid: UID, revision: 2, podTemplateHash: 'new2' },
      step: { index: 0 },
      decidedAt,
    }),
    'verify',
  );
}

function sentinel(
  kube: KubeDouble,
  router: Router,
  overrides: Partial<SentinelDependencies> = {},
): SentinelDependencies {
  return {
    history,
    kubeFor: async () => kube,
    routers: routersFrom([router]),
    eventBridge: new EventBridgeClient({ endpoint: bus.endpoint, region: 'eu-west-1', credentials }),
    busName: 'rollout-verifier',
    verify: { deadlineSeconds: 1, initialDelayMs: 20, maxDelayMs: 50 },
    intervalMs: 5 * 60_000,
    watchAfterSettledMs: 60 * 60_000,
    timeLeftMs: () => 60_000,
    now: () => NOW,
    ...overrides,
  };
}

describe('the drift sentinel', () => {
  test('re-verifies the watched rollouts that are due, publishes drift for the one whose ALB changed', async () => {
    const kube = new KubeDouble();
    // drifted: Succeeded 20 minutes ago, someone since edited the listener rule to canary 0.
    await remember('drifted', 'Succeeded', minutesAgo(20));
    // steady: Succeeded 20 minutes ago, still right.
    await remember('steady', 'Succeeded', minutesAgo(20));
    // recent: verified 2 minutes ago (by the verify function or the gate): skipped this round.
    await remember('recent', 'Succeeded', minutesAgo(2));
    // settled long ago: completed 3 hours ago, past the watch window.
    await remember('finished', 'Succeeded', minutesAgo(180), 'on-rollout-completed');
    // gone: no longer in its cluster.
    await remember('gone', 'Succeeded', minutesAgo(30));
    for (const name of ['drifted', 'steady', 'recent', 'finished']) {
      kube.put('argoproj.io', 'rollouts', 'shop', name, liveRollout(name, 1));
    }
    const router = albRouter({ drifted: 5, steady: 20 });
    const before = bus.events().length;

    const report = await runSentinel(sentinel(kube, router));

    expect(report).toMatchObject({ watched: 5, due: 3, verified: 2, drifted: ['shop/drifted'] });
    expect(report.skipped).toEqual([
      { rollout: 'shop/gone', reason: 'the Rollout is gone from its cluster: no longer watched' },
    ]);
    expect([...new Set(router.observed)].sort()).toEqual(['drifted', 'steady']);
    const published = bus.events().slice(before);
    expect(published.map((record) => [record.event.source, record.event['detail-type']])).toEqual([
      [DRIFT_EVENT_SOURCE, DRIFT_DETAIL_TYPE],
    ]);
    const drift = DriftEventDetail.parse(published[0]?.event.detail);
    expect(drift).toMatchObject({
      verdict: 'Failed',
      rollout: { namespace: 'shop', name: 'drifted' },
      drift: { previousVerdict: 'Succeeded', previousVerifiedAt: minutesAgo(20) },
    });
    expect(drift.findings.map((finding) => finding.code)).toContain('WeightMismatch');
    expect(drift.evidence?.routes[0]?.destinations.map((d) => d.weight)).toEqual([5, 95]);

    // Kept like every verdict, and the watch list moved on: the next run finds nothing due.
    const timeline = await history.timeline({ cluster: 'prod', namespace: 'shop', name: 'drifted' });
    expect(timeline.map((entry) => [entry.source, entry.verdict.verdict])).toEqual([
      ['verify', 'Succeeded'],
      ['sentinel', 'Failed'],
    ]);
    const watched = await history.watched();
    expect(watched.find((entry) => entry.name === 'gone')?.state).toBe('gone');
    const later = await runSentinel(sentinel(kube, router, { now: () => new Date(Date.now()) }));
    expect(later.due).toBe(0);
  });

  test('a rollout already Failed before is re-verified but not published as drift again', async () => {
    const kube = new KubeDouble();
    await remember('known-bad', 'Failed', minutesAgo(20));
    kube.put('argoproj.io', 'rollouts', 'shop', 'known-bad', liveRollout('known-bad', 1));
    const before = bus.events().length;
    const report = await runSentinel(sentinel(kube, albRouter({ 'known-bad': 5 })));
    expect(report).toMatchObject({ verified: 1, drifted: [] });
    expect(bus.events().slice(before)).toEqual([]);
  });

  test('stops starting verifications when its time runs short: the rest come first next run', async () => {
    const kube = new KubeDouble();
    await remember('late', 'Succeeded', minutesAgo(40));
    kube.put('argoproj.io', 'rollouts', 'shop', 'late', liveRollout('late', 1));
    const router = albRouter({ late: 20 });
    const report = await runSentinel(sentinel(kube, router, { timeLeftMs: () => 3_000 }));
    expect(report.verified).toBe(0);
    expect(report.skipped.map((skip) => skip.reason)).toContain(
      'no time left in this run: first in line next time',
    );
    expect(router.observed).toEqual([]);
  });
});

describe('DescribeBudget', () => {
  test('never more than its share: burst share × 40, then share × 10 per second', async () => {
    let clock = 0;
    const slept: number[] = [];
    const budget = new DescribeBudget(
      { share: 0.25, accountRatePerSecond: 10, accountBurst: 40 },
      () => clock,
      async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    );
    expect([budget.burst, budget.ratePerSecond]).toEqual([10, 2.5]);
    for (let call = 0; call < 20; call++) await budget.take();
    // 10 at once, then one every 400 ms: 20 calls take 4 s of simulated time.
    expect(clock).toBe(4_000);
    expect(slept.every((ms) => ms === 400)).toBe(true);
    expect(budget.taken).toBe(20);
    // 20 calls in 4 s = 5/s on average including the burst; the long-run rate is the share.
    for (let call = 0; call < 100; call++) await budget.take();
    expect(100 / ((clock - 4_000) / 1000)).toBeCloseTo(2.5, 5);
  });

  test('takes new limits as they come, keeping the tokens in hand up to the new burst', async () => {
    let clock = 0;
    const budget = new DescribeBudget(
      { share: 1, accountRatePerSecond: 10, accountBurst: 40 },
      () => clock,
      async (ms) => {
        clock += ms;
      },
    );
    for (let call = 0; call < 30; call++) await budget.take();
    expect(clock).toBe(0);
    // Verify's part: a half share among five containers, 1 per second and a burst of 4.
    budget.configure({ share: 0.1, accountRatePerSecond: 10, accountBurst: 40 });
    expect([budget.burst, budget.ratePerSecond]).toEqual([4, 1]);
    for (let call = 0; call < 4; call++) await budget.take();
    expect(clock).toBe(0);
    await budget.take();
    expect(clock).toBe(1_000);
  });
});
