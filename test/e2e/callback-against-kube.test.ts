import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackPolicy } from '../../lambdas/core/callback/policy.js';
import { EventWriteError, respondToVerdict } from '../../lambdas/core/callback/respond.js';
import type { KubeApi } from '../../lambdas/core/cluster/kube-api.js';
import { HttpsKubeApi } from '../../lambdas/core/cluster/kube-client.js';
import { KubeApiError } from '../../lambdas/core/cluster/kube-errors.js';
import {
  type ClusterCertificates,
  generateClusterCertificates,
  type KubeSim,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { verdictDetail } from '../support/verdicts.js';

const ROLLOUT = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout';
const STATUS = `${ROLLOUT}/status`;
const EVENTS = '/api/v1/namespaces/shop/events';
const UID = '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f';
const MERGE_PATCH = 'application/merge-patch+json';

const DEFAULT_POLICY: CallbackPolicy = {
  abortOnFailure: true,
  abortOnInconclusive: false,
  promoteOnSuccess: false,
  promoteInconclusiveAnalysis: false,
};
const PROMOTE: CallbackPolicy = { ...DEFAULT_POLICY, promoteOnSuccess: true };

let certificates: ClusterCertificates;
let sim: KubeSim;
let api: HttpsKubeApi;

beforeAll(async () => {
  certificates = await generateClusterCertificates();
});

afterEach(async () => {
  api?.close();
  await sim?.close();
});

/** A cluster holding the fixture Rollout with `rollout` merged in, or no Rollout at all (null). */
async function cluster(rollout: Record<string, unknown> | null = {}, options: { timeoutMs?: number } = {}) {
  sim = await startKubeSim({ certificates, objects: rollout ? [rolloutObject(rollout)] : [] });
  api = new HttpsKubeApi(
    { server: sim.url, caPem: sim.caPem, token: async () => sim.token },
    {
      requestTimeoutMs: options.timeoutMs ?? 2_000,
      baseDelayMs: 5,
      maxDelayMs: 20,
      rbacHint: 'the ClusterRole "rollout-verifier" (deploy/cluster/clusterroles.yaml)',
    },
  );
  return sim;
}

const respond = (
  verdict = verdictDetail(),
  policy = DEFAULT_POLICY,
  kube: KubeApi = api,
  options: { pauseSettleMs?: number; sleep?: (ms: number) => Promise<void> } = { pauseSettleMs: 0 },
) =>
  respondToVerdict(kube, verdict, {
    policy,
    instance: 'rollout-verifier-callback',
    now: () => new Date('2026-11-23T09:00:04Z'),
    ...options,
  });

/** Method, path and (for writes) the body, without the Events' bodies, which are checked on their own. */
const calls = () =>
  sim.requests.map((request) =>
    request.method === 'PATCH'
      ? {
          method: request.method,
          path: request.path,
          contentType: request.contentType,
          body: request.body,
          status: request.status,
        }
      : { method: request.method, path: request.path, status: request.status },
  );

interface StoredRollout {
  metadata: { resourceVersion?: string };
  spec: { paused?: boolean };
  status?: { abort?: boolean; pauseConditions?: unknown };
}
const storedRollout = () =>
  sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout') as StoredRollout | undefined;
const rv = () => String(storedRollout()?.metadata.resourceVersion);

/** The API, with the stored Rollout replaced by `rollout` right after the callback's first GET. */
function changedAfterFirstGet(rollout: Record<string, unknown>): KubeApi {
  let reads = 0;
  return {
    async request(request) {
      const answer = await api.request(request);
      if (request.method === 'GET' && ++reads === 1) sim.put(rolloutObject(rollout));
      return answer as never;
    },
  };
}

describe('callback against the Kubernetes API fake: abort', () => {
  it('aborts a Failed step with one conditional status merge patch, then records the finding and the abort', async () => {
    await cluster();
    const before = rv();
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }));

    expect(outcome).toMatchObject({ action: 'aborted', eventsCreated: 2, eventsAlreadyRecorded: 0 });
    expect(calls()).toEqual([
      { method: 'GET', path: ROLLOUT, status: 200 },
      {
        method: 'PATCH',
        path: STATUS,
        contentType: MERGE_PATCH,
        body: { status: { abort: true }, metadata: { uid: UID, resourceVersion: before } },
        status: 200,
      },
      { method: 'POST', path: EVENTS, status: 201 },
      { method: 'POST', path: EVENTS, status: 201 },
    ]);
    expect(storedRollout()?.status?.abort).toBe(true);
    const events = sim.events('shop');
    expect(events.map((event) => [event.type, event.reason])).toEqual([
      ['Warning', 'WeightMismatch'],
      ['Warning', 'AbortedByVerifier'],
    ]);
    expect(events[0]).toMatchObject({
      involvedObject: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: 'checkout',
        namespace: 'shop',
        uid: UID,
      },
      source: { component: 'rollout-verifier' },
      reportingComponent: 'rollout-verifier',
      count: 1,
      message: expect.stringContaining('forwards canary 0 / stable 100, expected canary 20 / stable 80'),
    });
  });

  it('never aborts a newer revision: it says why in an Event instead', async () => {
    await cluster({ metadata: { annotations: { 'rollout.argoproj.io/revision': '4' } } });
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }));

    expect(outcome).toMatchObject({
      action: 'none',
      reason: 'the Rollout is at revision 4 now; the verdict is about revision 3',
    });
    expect(calls().map((call) => call.method)).toEqual(['GET', 'POST', 'POST']);
    expect(storedRollout()?.status?.abort).toBeUndefined();
    expect(sim.events('shop').map((event) => event.reason)).toEqual(['WeightMismatch', 'AbortSkipped']);
  });

  it('never aborts a revision that appears between its GET and its PATCH (409 Conflict → re-read → skip)', async () => {
    await cluster();
    // Argo starts revision 4 right after the callback read revision 3.
    const racing = changedAfterFirstGet({
      metadata: { annotations: { 'rollout.argoproj.io/revision': '4' } },
    });
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }), DEFAULT_POLICY, racing);

    expect(outcome.action).toBe('none');
    expect(calls().map((call) => `${call.method} ${call.status}`)).toEqual([
      'GET 200',
      'PATCH 409',
      'GET 200',
      'POST 201',
      'POST 201',
    ]);
    expect(storedRollout()?.status?.abort).toBeUndefined();
  });

  it('a duplicate delivery changes nothing and writes no second copy of the Events', async () => {
    await cluster();
    await respond(verdictDetail({ verdict: 'Failed' }));
    const second = await respond(verdictDetail({ verdict: 'Failed' }));

    expect(second).toMatchObject({
      action: 'none',
      reason: 'the Rollout is already aborted',
      eventsCreated: 0,
      eventsAlreadyRecorded: 2,
    });
    expect(sim.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
    expect(sim.events('shop')).toHaveLength(2);
  });
});

describe('callback against the Kubernetes API fake: promote, like kubectl argo rollouts promote', () => {
  it('clears the pause conditions of a Rollout paused right after the verified step', async () => {
    await cluster();
    const before = rv();
    const outcome = await respond(verdictDetail(), PROMOTE);

    expect(outcome).toMatchObject({ action: 'promoted', reason: 'step 0 verified (CanaryPauseStep)' });
    expect(calls()).toEqual([
      { method: 'GET', path: ROLLOUT, status: 200 },
      {
        method: 'PATCH',
        path: STATUS,
        contentType: MERGE_PATCH,
        body: { status: { pauseConditions: null }, metadata: { uid: UID, resourceVersion: before } },
        status: 200,
      },
      { method: 'POST', path: EVENTS, status: 201 },
      { method: 'POST', path: EVENTS, status: 201 },
    ]);
    expect(storedRollout()?.status?.pauseConditions).toBeUndefined();
    expect(sim.events('shop').map((event) => [event.type, event.reason])).toEqual([
      ['Normal', 'VerificationSucceeded'],
      ['Normal', 'PromotedByVerifier'],
    ]);
  });

  it('waits until a pause is 2 s old before it releases it, reading the Rollout again (a pause the controller may still be writing)', async () => {
    await cluster(); // paused at 09:00:00; the verdict arrives at 09:00:04 (now)
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    // 4 s old: released at once.
    expect((await respond(verdictDetail(), PROMOTE, api, { sleep })).action).toBe('promoted');
    expect(waits).toEqual([]);
    // 0.5 s old: waits 1.5 s, reads again, then releases.
    await cluster();
    const young = respondToVerdict(api, verdictDetail(), {
      policy: PROMOTE,
      instance: 'rollout-verifier-callback',
      now: () => new Date('2026-11-23T09:00:00.500Z'),
      sleep,
    });
    expect((await young).action).toBe('promoted');
    expect(waits).toEqual([1_500]);
    expect(calls().filter((call) => call.method === 'GET')).toHaveLength(2);
  });

  it('with spec.paused: status first, then spec.paused=false conditional on the resourceVersion the status write returned', async () => {
    await cluster({ spec: { paused: true } });
    const before = rv();
    await respond(verdictDetail(), PROMOTE);

    const patches = calls().filter((call) => call.method === 'PATCH');
    expect(patches).toEqual([
      {
        method: 'PATCH',
        path: STATUS,
        contentType: MERGE_PATCH,
        body: { status: { pauseConditions: null }, metadata: { uid: UID, resourceVersion: before } },
        status: 200,
      },
      {
        method: 'PATCH',
        path: ROLLOUT,
        contentType: MERGE_PATCH,
        body: { spec: { paused: false }, metadata: { uid: UID, resourceVersion: expect.any(String) } },
        // 200, not 409: the precondition is the resourceVersion after the status write, not the GET's.
        status: 200,
      },
    ]);
    const specPatch = patches[1]?.body as { metadata?: { resourceVersion?: string } } | undefined;
    expect(specPatch?.metadata?.resourceVersion).not.toBe(before);
    expect(storedRollout()?.spec.paused).toBe(false);
    expect(storedRollout()?.status?.pauseConditions).toBeUndefined();
  });

  it('leaves a pause for an inconclusive analysis to a human, unless the Rollout allows it', async () => {
    const inconclusive = {
      status: { pauseConditions: [{ reason: 'InconclusiveAnalysisRun', startTime: '2026-11-23T09:01:00Z' }] },
    };
    await cluster(inconclusive);
    const held = await respond(verdictDetail(), PROMOTE);
    expect(held.action).toBe('none');
    expect(calls().map((call) => call.method)).toEqual(['GET', 'POST', 'POST']);
    expect(sim.events('shop').map((event) => event.reason)).toEqual([
      'VerificationSucceeded',
      'PromoteSkipped',
    ]);
    await sim.close();

    await cluster({
      ...inconclusive,
      metadata: { annotations: { 'rollout-verifier.io/promote-inconclusive-analysis': 'true' } },
    });
    const promoted = await respond(verdictDetail(), PROMOTE);
    expect(promoted.action).toBe('promoted');
    expect(calls().find((call) => call.method === 'PATCH')).toMatchObject({
      path: STATUS,
      body: { status: { pauseConditions: null } },
    });
  });

  it('promotes only when the Rollout opted in by annotation if promotion is off globally', async () => {
    await cluster({ metadata: { annotations: { 'rollout-verifier.io/promote-on-success': 'true' } } });
    expect((await respond(verdictDetail(), DEFAULT_POLICY)).action).toBe('promoted');
  });
});

describe('callback against the Kubernetes API fake: failures', () => {
  it('403: fails naming the verb, the resource and the RBAC object to fix, and writes nothing', async () => {
    await cluster();
    sim.forbid({ verb: 'patch', group: 'argoproj.io', resource: 'rollouts', subresource: 'status' });
    const failure = await respond(verdictDetail({ verdict: 'Failed' })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(KubeApiError);
    expect((failure as KubeApiError).status).toBe(403);
    expect((failure as Error).message).toMatch(
      /^forbidden: .*cannot patch resource "rollouts\/status" in API group "argoproj.io".*Grant verb "patch" on "rollouts\/status" in API group "argoproj.io" in the ClusterRole "rollout-verifier"/,
    );
    // Not retried: a missing grant does not appear by waiting.
    expect(calls().map((call) => `${call.method} ${call.status}`)).toEqual(['GET 200', 'PATCH 403']);
    expect(storedRollout()?.status?.abort).toBeUndefined();
    expect(sim.events('shop')).toEqual([]);
  });

  it('404: the Rollout is gone, recorded once, not retried, nothing written', async () => {
    await cluster(null);
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }));

    expect(outcome).toMatchObject({
      action: 'rollout-gone',
      reason: 'Rollout shop/checkout no longer exists',
    });
    expect(calls()).toEqual([{ method: 'GET', path: ROLLOUT, status: 404 }]);
  });

  it('429: waits as Retry-After says, then writes once', async () => {
    await cluster();
    sim.inject({ method: 'PATCH', path: STATUS, status: 429, retryAfterSeconds: 0 });
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }));

    expect(outcome.action).toBe('aborted');
    expect(calls().map((call) => `${call.method} ${call.status}`)).toEqual([
      'GET 200',
      'PATCH 429',
      'PATCH 200',
      'POST 201',
      'POST 201',
    ]);
  });

  it('5xx: retried with backoff until it works, and reported with the status when it never does', async () => {
    await cluster();
    sim.inject({ method: 'GET', path: ROLLOUT, status: 503, times: 2 });
    expect((await respond(verdictDetail({ verdict: 'Failed' }))).action).toBe('aborted');
    expect(
      calls()
        .slice(0, 3)
        .map((call) => `${call.method} ${call.status}`),
    ).toEqual(['GET 503', 'GET 503', 'GET 200']);
    await sim.close();

    await cluster();
    sim.inject({ method: 'PATCH', path: STATUS, status: 500, times: 10 });
    const failure = await respond(verdictDetail({ verdict: 'Failed' })).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'KubeApiError', status: 500 });
    expect(sim.requests.filter((request) => request.method === 'PATCH')).toHaveLength(4);
    expect(storedRollout()?.status?.abort).toBeUndefined();
  });

  it('a request that gets no answer in time is retried', async () => {
    await cluster({}, { timeoutMs: 150 });
    sim.inject({ method: 'GET', path: ROLLOUT, delayMs: 5_000 });
    // The first GET cannot answer within the 150 ms timeout: only a retry can reach the abort.
    expect((await respond(verdictDetail({ verdict: 'Failed' }))).action).toBe('aborted');
    expect(storedRollout()?.status?.abort).toBe(true);
  });

  it('a missing events grant does not block the abort: the abort lands, then the invocation fails loudly', async () => {
    await cluster();
    sim.forbid({ verb: 'create', group: '', resource: 'events' });
    const failure = await respond(verdictDetail({ verdict: 'Failed' })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(EventWriteError);
    expect((failure as Error).message).toMatch(
      /^aborted \(verification of step 0 .*\), but 2 of 2 Event\(s\) could not be written: forbidden/,
    );
    expect(storedRollout()?.status?.abort).toBe(true);
  });

  it('trusts only the cluster CA', async () => {
    await cluster();
    const other = await generateClusterCertificates();
    const stranger = new HttpsKubeApi(
      { server: sim.url, caPem: other.caPem, token: async () => sim.token },
      { maxAttempts: 1 },
    );
    await expect(
      respond(verdictDetail({ verdict: 'Failed' }), DEFAULT_POLICY, stranger),
    ).rejects.toMatchObject({
      name: 'KubeApiError',
      status: 0,
    });
    stranger.close();
    expect(sim.requests).toEqual([]);
  });
});

describe('callback against the Kubernetes API fake: a write whose answer was lost', () => {
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /** The cluster behind a fault proxy; the client talks to the proxy (same CA), with a short timeout. */
  async function proxiedCluster(rollout: Record<string, unknown> = {}) {
    await cluster(rollout);
    proxy = await startFaultProxy({
      upstream: sim.url,
      tls: { keyPem: certificates.keyPem, certPem: certificates.certPem },
      upstreamCaPem: sim.caPem,
    });
    api.close();
    api = new HttpsKubeApi(
      { server: proxy.url, caPem: sim.caPem, token: async () => sim.token },
      { requestTimeoutMs: 300, baseDelayMs: 5, maxDelayMs: 20 },
    );
    return proxy;
  }

  const isPatchOf = (path: string) => (request: { method: string; path: string }) =>
    request.method === 'PATCH' && request.path.split('?')[0] === path;

  it.each(['reset', 'silence'] as const)(
    'abort: applied, answer lost (%s), retry refused 409 → re-read shows our abort → aborted, not none',
    async (then) => {
      const faults = await proxiedCluster();
      faults.inject({ match: isPatchOf(STATUS), times: 1, fault: { kind: 'lose-answer', then } });
      const outcome = await respond(verdictDetail({ verdict: 'Failed' }));

      expect(outcome).toMatchObject({ action: 'aborted', eventsCreated: 2 });
      expect(outcome.reason).toMatch(/\(the API server applied it; its answer was lost\)$/);
      expect(calls().map((call) => `${call.method} ${call.status}`)).toEqual([
        'GET 200',
        'PATCH 200', // applied; the answer never reached the callback
        'PATCH 409', // the retry's resourceVersion precondition meets our own write
        'GET 200',
        'POST 201',
        'POST 201',
      ]);
      expect(storedRollout()?.status?.abort).toBe(true);
      expect(sim.events('shop').map((event) => event.reason)).toEqual([
        'WeightMismatch',
        'AbortedByVerifier',
      ]);
    },
  );

  it('promote: the status half applied unseen, then the spec half conditional on the live object → promoted', async () => {
    const faults = await proxiedCluster({ spec: { paused: true } });
    faults.inject({ match: isPatchOf(STATUS), times: 1, fault: { kind: 'lose-answer' } });
    const outcome = await respond(verdictDetail(), PROMOTE);

    expect(outcome).toMatchObject({ action: 'promoted' });
    expect(outcome.reason).toContain('its answer was lost');
    expect(
      calls().map(
        (call) =>
          `${call.method} ${call.path === ROLLOUT ? 'spec' : call.path === STATUS ? 'status' : call.path} ${call.status}`,
      ),
    ).toEqual([
      'GET spec 200',
      'PATCH status 200',
      'PATCH status 409',
      'GET spec 200',
      'PATCH spec 200',
      `POST ${EVENTS} 201`,
      `POST ${EVENTS} 201`,
    ]);
    expect(storedRollout()?.spec.paused).toBe(false);
    expect(storedRollout()?.status?.pauseConditions).toBeUndefined();
  });

  it("a 409 with no lost answer is someone else's change: another party's abort stays theirs", async () => {
    await cluster();
    // Someone aborts by hand right after the callback's GET.
    const racing = changedAfterFirstGet({ status: { abort: true } });
    const outcome = await respond(verdictDetail({ verdict: 'Failed' }), DEFAULT_POLICY, racing);
    expect(outcome).toMatchObject({ action: 'none', reason: 'the Rollout is already aborted' });
  });
});
