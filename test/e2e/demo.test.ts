import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, renderDemo, runDemo } from '../../demo/run.js';
import { createEksToken } from '../../lambdas/core/cluster/eks-token.js';
import { startDynamoDbSim } from '../../sim/dynamodb.js';
import { eksAuthenticator, type IamIdentity, startEksSim } from '../../sim/eks.js';

/**
 * `npm run demo` in CI: every scenario through the real ingest, verify and callback handlers, on
 * loopback simulators only (ELBv2, EventBridge, Secrets Manager, EKS, DynamoDB, kube-sim).
 */
/** A setWeight step's verification and its pause's race the abort the first Failed causes: the other may see it carried out. */
const FAILED_UNLESS_ABORTED = expect.stringMatching(/^(Failed|Succeeded|Inconclusive)$/);

describe('npm run demo', () => {
  let result: DemoResult;
  beforeAll(async () => {
    // The demo's own deadline: room for a Describe* call throttled by the shared ELBv2 budget.
    result = await runDemo({ deadlineSeconds: 3 });
  }, 60_000);

  const scenario = (rollout: string) => {
    const found = result.scenarios.find((candidate) => candidate.rollout === rollout);
    if (!found) throw new Error(`no scenario for ${rollout}`);
    return found;
  };

  it('reaches the expected verdicts and cluster actions in every scenario', () => {
    // One verdict per notification, in the order Argo sent them: on-rollout-updated first, then
    // each setWeight's step-completed, on-rollout-paused and the pause's own step-completed…
    expect(
      result.scenarios.map(({ name, got, actions, ok, problem }) => ({ name, got, actions, ok, problem })),
    ).toEqual([
      {
        name: 'drift: a listener rule edited by hand after the step was Succeeded → VerificationDrift',
        got: ['Succeeded', 'Succeeded', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'healthy canary 20 → 50 → 100, promoted by the verifier at each pause',
        got: [
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
        ],
        actions: ['promoted', 'promoted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'weights never applied (controller throttled) → aborted',
        got: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'unhealthy canary targets → aborted',
        got: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'half-registered target group (controller lags) → aborted',
        got: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'AccessDenied → Inconclusive: no abort, the alarm metric',
        got: ['Inconclusive', 'Inconclusive', 'Inconclusive'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'blue-green switch',
        got: ['Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'duplicate deliveries → one verification, one action',
        got: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
        actions: ['promoted'],
        ok: true,
        problem: undefined,
      },
      {
        name: "a stranger's POST → 401, nothing published",
        got: [],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Istio: healthy host-split canary 20, promoted by the verifier',
        got: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
        actions: ['promoted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Istio #3884: the only HTTP route is named, the rollout names none → aborted',
        got: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Istio: a second HTTP route, none named → "ambiguous: name the routes", abort stuck',
        got: ['Succeeded', 'Failed', 'Failed'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Istio mesh bypass: VirtualService bound only to the ingress gateway → aborted',
        got: ['Succeeded', 'Failed', 'Failed', 'Failed'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Ambassador: healthy canary Mapping (scheme, namespace, port kept), promoted',
        got: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
        actions: ['promoted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Ambassador #3593: the canary Mapping lost scheme and namespace → aborted',
        got: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'Ambassador: the base Mapping does not name the stable Service → aborted',
        got: ['Failed', 'Failed'],
        actions: ['aborted'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'traffic look: the ALB served the configured 20 % → Succeeded',
        got: ['Succeeded', 'Succeeded', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'traffic look: sticky sessions keep 45 % on the canary at weight 20 → Failed, reported, not aborted',
        got: ['Succeeded', 'Succeeded', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'traffic look: a quiet step (3 requests a minute) → Inconclusive',
        got: ['Succeeded', 'Succeeded', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'analysis gate: each step held by its AnalysisRun until the ALB converges',
        got: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
      {
        name: 'analysis gate: the AnalysisRun fails and Argo aborts by itself (no callback write)',
        got: ['Succeeded', 'Failed', 'Succeeded'],
        actions: [],
        ok: true,
        problem: undefined,
      },
    ]);
    expect(result.ok).toBe(true);
    expect(renderDemo(result)).toContain(
      '21 of 21 scenarios reached the expected verdicts and cluster actions',
    );
  });

  describe('the traffic look (issue 17): what the ALB served, from the loopback CloudWatch', () => {
    const look = (rollout: string) => {
      const { traffic, trafficFindings } = scenario(rollout);
      return { traffic, trafficFindings };
    };

    it('a healthy step: Succeeded', () => {
      expect(look('shop/gifts')).toEqual({ traffic: ['Succeeded'], trafficFindings: [] });
    });

    it('a skewed split: Failed ObservedSplitMismatch, reported only — the rollout stays paused, not aborted', () => {
      expect(look('shop/wardrobe')).toEqual({
        traffic: ['Failed'],
        trafficFindings: ['ObservedSplitMismatch'],
      });
      const state = result.rollouts.find((rollout) => rollout.rollout === 'shop/wardrobe');
      expect(state).toMatchObject({ abort: false, pauseConditions: ['CanaryPauseStep'] });
      expect(scenario('shop/wardrobe').alarms).toEqual([]);
    });

    it('a quiet step: Inconclusive InsufficientTraffic', () => {
      expect(look('shop/returns')).toEqual({
        traffic: ['Inconclusive'],
        trafficFindings: ['InsufficientTraffic'],
      });
    });

    it('a rollout that moved on within the minute is never judged on the next step’s traffic', () => {
      const checkout = look('shop/checkout');
      // one look per pause (on-rollout-paused), two pauses
      expect(checkout.traffic).toHaveLength(2);
      expect(checkout.traffic).not.toContain('Failed');
      expect(checkout.trafficFindings).toEqual(['RolloutMovedOn']);
    });

    it('one GetMetricData call per look, every request signed by the traffic role', () => {
      const looks = result.scenarios.reduce((sum, candidate) => sum + candidate.traffic.length, 0);
      expect(result.calls.cloudwatch).toEqual({ 'GetMetricData (7 queries)': looks });
    });
  });

  it('catches drift after a Succeeded step: the sentinel re-verifies and publishes VerificationDrift', () => {
    const catalog = scenario('shop/catalog');
    expect(catalog.drift).toEqual(['WeightMismatch']);
    const timeline = result.timeline
      .filter((entry) => entry.rollout === 'shop/catalog')
      .map((entry) => entry.what);
    const edited = timeline.indexOf('someone edits both listener rules by hand: canary 10 / stable 90');
    const drift = timeline.findIndex((what) =>
      /^Rollout Verification Drift \(WeightMismatch\) at step 1: last verified Succeeded at .*, now canary 10 \/ stable 90 where canary 20 \/ stable 80 is expected$/.test(
        what,
      ),
    );
    expect(edited).toBeGreaterThan(-1);
    expect(drift).toBeGreaterThan(edited);
    expect(timeline).toContain(
      'drift sentinel (EventBridge Scheduler): 1 watched, 1 due, 1 re-verified, drift in shop/catalog',
    );
    // No action on drift: the callback saw only the step's verdict.
    expect(catalog.actions).toEqual([]);
    expect(
      result.history['shop/catalog']?.entries.map(({ source, verdict }) => [source, verdict.verdict]),
    ).toEqual([
      ['verify', 'Succeeded'],
      ['verify', 'Succeeded'],
      ['verify', 'Succeeded'],
      ['sentinel', 'Failed'],
    ]);
  });

  describe('the analysis gate (issue 15)', () => {
    const lines = (rollout: string) =>
      result.timeline.filter((entry) => entry.rollout === rollout).map((entry) => entry.what);

    it('holds each step until the verifier answers: the AnalysisRun is Successful only once the ALB converged', () => {
      expect(scenario('shop/wishlist').analysisRuns).toEqual(['Successful', 'Successful']);
      const timeline = lines('shop/wishlist');
      const applied = timeline.indexOf(
        'load balancer controller: 2 listener rule(s) set to canary 20 / stable 80',
      );
      const measured = timeline.findIndex((what) =>
        /AnalysisRun wishlist-.*-1: web GET <gate>\/analysis\?cluster=demo&namespace=shop&name=wishlist&podTemplateHash=\w+ → 200 .*"verdict":"Succeeded"/.test(
          what,
        ),
      );
      const onward = timeline.findIndex((what) =>
        /^Argo: AnalysisRun wishlist-.*-1 Successful: on to step 2$/.test(what),
      );
      const nextStep = timeline.findIndex((what) => what.startsWith('Argo: step 2 setWeight 50'));
      expect(applied).toBeGreaterThan(-1);
      expect(measured).toBeGreaterThan(applied);
      expect(onward).toBeGreaterThan(measured);
      expect(nextStep).toBeGreaterThan(onward);
      expect(result.rollouts.find((state) => state.rollout === 'shop/wishlist')).toMatchObject({
        phase: 'Healthy',
        abort: false,
      });
    });

    it('a failed AnalysisRun makes Argo abort by itself: the callback writes nothing but Events', () => {
      const favorites = scenario('shop/favorites');
      expect(favorites.analysisRuns).toEqual(['Failed']);
      expect(favorites.findings).toEqual(['InsufficientHealthyTargets', 'UnhealthyTargets']);
      expect(favorites.callbacks.flatMap((record) => record.patches)).toEqual([]);
      expect(favorites.callbacks.map((record) => record.reason)).toContain('abort on failure is off');
      expect(lines('shop/favorites')).toContainEqual(
        expect.stringMatching(
          /^Argo: status\.abort set by argo-rollouts \(AnalysisRun favorites-\w+-1 Failed\)/,
        ),
      );
      expect(result.rollouts.find((state) => state.rollout === 'shop/favorites')).toMatchObject({
        phase: 'Degraded',
        abort: true,
      });
    });

    it('`rollout-verifier history` prints each gated rollout’s timeline from the demo’s history table', () => {
      const wishlist = result.history['shop/wishlist'];
      expect(wishlist?.exitCode).toBe(0);
      expect(
        wishlist?.entries.map(({ verdict }) => [verdict.step.index, verdict.verdict, verdict.trigger]),
      ).toEqual([
        [0, 'Succeeded', 'on-rollout-updated'],
        [0, 'Succeeded', 'on-rollout-step-completed'],
        [1, 'Succeeded', 'on-rollout-step-completed'],
        [2, 'Succeeded', 'on-rollout-step-completed'],
        [3, 'Succeeded', 'on-rollout-step-completed'],
        [4, 'Succeeded', 'on-rollout-completed'],
      ]);
      expect(wishlist?.text.split('\n')[0]).toBe('shop/wishlist: 6 verdict(s), oldest first');
      const favorites = result.history['shop/favorites'];
      expect(favorites?.entries.map(({ verdict, source }) => [source, verdict.verdict])).toEqual([
        ['verify', 'Succeeded'],
        ['verify', 'Failed'],
        ['verify', 'Succeeded'],
      ]);
      expect(favorites?.entries[1]?.verdict.evidence?.backends.length).toBeGreaterThan(0);
    });
  });

  it('names the finding that caught each failed rollout', () => {
    expect(scenario('shop/cart').findings).toContain('WeightMismatch');
    expect(scenario('shop/search').findings).toContain('UnhealthyTargets');
    expect(scenario('shop/inventory').findings).toContain('TargetNotRegistered');
    expect(scenario('shop/payments').findings).toEqual(['AccessDenied']);
  });

  describe('Istio and Ambassador field cases (issue 7)', () => {
    /** The timeline's line per finding: `  finding <code>: <message>`. */
    const findingLines = (rollout: string) =>
      result.timeline
        .filter((entry) => entry.rollout === rollout && entry.what.startsWith('  finding '))
        .map((entry) => entry.what.slice('  finding '.length));

    it('catches each case with the finding that explains it, in the timeline', () => {
      expect(scenario('shop/ratings').findings).toEqual(['WeightMismatch']);
      expect(findingLines('shop/ratings')).toContainEqual(
        expect.stringMatching(
          /^WeightMismatch: HTTP route "primary" of VirtualService shop\/ratings: canary 0 \/ stable 100, expected canary 20 \/ stable 80 .*the rollout names no routes and "primary" is the VirtualService's only HTTP route: Argo Rollouts before v1\.9 skips a single route that has a name \(argo-rollouts #3884\)/,
        ),
      );
      expect(scenario('shop/details').findings).toEqual(['AmbiguousRoutes']);
      expect(findingLines('shop/details')).toContainEqual(
        expect.stringMatching(
          /^AmbiguousRoutes: ambiguous: name the routes — virtualservice\/shop\/details has 2 HTTP routes/,
        ),
      );
      // the in-mesh split next to the weight, at the step and again once aborted (the canary pod stays ready)
      expect(scenario('shop/pricing').findings).toEqual(['MeshBypass']);
      expect(findingLines('shop/pricing')).toEqual(
        expect.arrayContaining([
          expect.stringContaining(
            'bound only to gateway(s) istio-system/public-gateway, not to "mesh": in-cluster callers bypass its weights and split by ready pods — canary 1 of 5 (20 %) — while the step expects canary 10 / stable 90',
          ),
          expect.stringContaining('canary 1 of 5 (20 %) — while the step expects canary 0 / stable 100'),
        ]),
      );
      expect(scenario('shop/shipping').findings).toEqual(['CanaryMappingServiceMismatch']);
      expect(findingLines('shop/shipping')).toContainEqual(
        expect.stringContaining(
          'routes to "shipping-canary:8443", expected "https://shipping-canary.shop:8443" — the base Mapping\'s service with only the stable Service name replaced: the scheme https:// is lost, the namespace part "shop" is lost (argo-rollouts #3593',
        ),
      );
      expect(scenario('shop/invoices').findings).toEqual(['StableServiceNotInMapping']);
      // the new revision's own verification and the aborted rollout's: the same finding
      expect(findingLines('shop/invoices')).toEqual([
        expect.stringContaining(
          '"https://billing.shop:8443", which does not name the stable Service invoices',
        ),
        expect.stringContaining(
          '"https://billing.shop:8443", which does not name the stable Service invoices',
        ),
      ]);
      expect(findingLines('shop/reviews')).toEqual([]);
      expect(findingLines('shop/quote')).toEqual([]);
    });

    it('aborts each caught rollout through the status subresource, with an Event per finding', () => {
      for (const [rollout, reason] of [
        ['shop/ratings', 'WeightMismatch'],
        ['shop/details', 'AmbiguousRoutes'],
        ['shop/pricing', 'MeshBypass'],
        ['shop/shipping', 'CanaryMappingServiceMismatch'],
        ['shop/invoices', 'StableServiceNotInMapping'],
      ] as const) {
        const aborts = scenario(rollout).callbacks.filter((record) => record.action === 'aborted');
        expect(aborts).toHaveLength(1);
        const [failed] = aborts;
        expect(failed?.patches).toEqual([{ subresource: 'status', patch: { status: { abort: true } } }]);
        expect(failed?.events.map((event) => `${event.type} ${event.reason}`)).toEqual([
          `Warning ${reason}`,
          'Warning AbortedByVerifier',
        ]);
        expect(result.rollouts.find((state) => state.rollout === rollout)).toMatchObject({
          phase: 'Degraded',
          abort: true,
        });
        expect(scenario(rollout).alarms).toEqual(['VerificationFailed']);
      }
      // Argo cannot reconcile the abort of a Rollout whose VirtualService became ambiguous: still paused
      expect(result.rollouts.find((state) => state.rollout === 'shop/details')?.pauseConditions).toEqual([
        'CanaryPauseStep',
      ]);
      // a Failed verdict about an aborted Rollout aborts nothing again
      const pricing = scenario('shop/pricing').callbacks;
      expect(pricing.at(-1)).toMatchObject({ verdict: 'Failed', action: 'none', patches: [] });
    });

    it('promotes healthy mesh canaries, which Argo carries through to fully promoted', () => {
      for (const rollout of ['shop/reviews', 'shop/quote']) {
        // one promote, by the first verdict of the paused weight to arrive (a second one's write is
        // refused by its precondition, 409, and re-read: not promoted again)
        const promotes = scenario(rollout).callbacks.filter((record) => record.action === 'promoted');
        expect(promotes.map((record) => record.patches)).toEqual([
          [{ subresource: 'status', patch: { status: { pauseConditions: null } } }],
        ]);
        const state = result.rollouts.find((candidate) => candidate.rollout === rollout);
        expect(state).toMatchObject({ phase: 'Healthy', abort: false, currentStepIndex: 2 });
        expect(state?.stableRS).toBe(state?.currentPodHash);
        expect(scenario(rollout).alarms).toEqual([]);
      }
    });
  });

  it('aborts with a merge patch on the status subresource and says why in Events on the Rollout', () => {
    for (const [rollout, reason] of [
      ['shop/cart', 'WeightMismatch'],
      ['shop/search', 'UnhealthyTargets'],
      ['shop/inventory', 'TargetNotRegistered'],
    ] as const) {
      const [failed, ...again] = scenario(rollout).callbacks.filter((record) => record.action === 'aborted');
      expect(again).toEqual([]);
      expect(failed?.patches).toEqual([{ subresource: 'status', patch: { status: { abort: true } } }]);
      expect(failed?.events.map((event) => `${event.type} ${event.reason}`)).toEqual(
        expect.arrayContaining([`Warning ${reason}`, 'Warning AbortedByVerifier']),
      );
      expect(result.rollouts.find((state) => state.rollout === rollout)).toMatchObject({
        phase: 'Degraded',
        abort: true,
      });
    }
    // Inconclusive: an Event, never an abort
    for (const inconclusive of scenario('shop/payments').callbacks) {
      expect(inconclusive.patches).toEqual([]);
      expect(inconclusive.events.map((event) => event.reason)).toEqual(['AccessDenied']);
    }
    expect(result.rollouts.find((state) => state.rollout === 'shop/payments')).toMatchObject({
      abort: false,
      pauseConditions: ['CanaryPauseStep'],
    });
  });

  it('promotes by clearing the pause, and Argo carries the rollout through to fully promoted', () => {
    const promotions = scenario('shop/checkout').callbacks.filter((record) => record.action === 'promoted');
    expect(promotions.map((record) => record.patches)).toEqual([
      [{ subresource: 'status', patch: { status: { pauseConditions: null } } }],
      [{ subresource: 'status', patch: { status: { pauseConditions: null } } }],
    ]);
    expect(result.rollouts.find((state) => state.rollout === 'shop/checkout')).toMatchObject({
      phase: 'Healthy',
      abort: false,
      currentStepIndex: 5,
      pauseConditions: [],
    });
    const checkout = result.rollouts.find((state) => state.rollout === 'shop/checkout');
    expect(checkout?.stableRS).toBe(checkout?.currentPodHash);
  });

  it('verifies a duplicated notification once and acts on a twice-delivered verdict once', () => {
    const orders = scenario('shop/orders');
    // five notifications (updated, step 0, paused, the pause's step, completed), each posted twice;
    // five verdicts, each delivered twice: the second delivery is answered from the idempotency table
    expect(orders.got).toHaveLength(5);
    expect(orders.callbacks).toHaveLength(10);
    expect(orders.callbacks.filter((record) => !record.replayed)).toHaveLength(5);
    expect(
      orders.callbacks.filter((record) => record.action === 'promoted' && !record.replayed),
    ).toHaveLength(1);
    expect(
      orders.callbacks.filter((record) => record.replayed).every((record) => record.patches.length === 0),
    ).toBe(true);
    // a redelivery repeats the first delivery's outcome, without writing again
    for (const replay of orders.callbacks.filter((record) => record.replayed)) {
      const first = orders.callbacks.find(
        (record) => record.verdictId === replay.verdictId && !record.replayed,
      );
      expect(replay.action).toBe(first?.action);
    }
    expect(
      orders.callbacks.filter((record) => record.replayed).every((record) => record.patches.length === 0),
    ).toBe(true);
  });

  it('emits the metrics the alarms watch', () => {
    expect(scenario('shop/payments').alarms).toEqual(['VerificationInconclusive']);
    // updated, setWeight 20, the pause: three verifications, none could see target health
    expect(scenario('shop/payments').metrics.VerificationInconclusive).toBe(3);
    expect(scenario('shop/cart').alarms).toEqual(['VerificationFailed']);
    expect(scenario('shop/ledger').alarms).toEqual(['IngestAuthenticationFailures']);
    expect(scenario('shop/checkout').alarms).toEqual([]);
  });

  it('reaches the cluster as EKS does: DescribeCluster, then each function with its own token and rights', () => {
    const { kubernetes, eks } = result.calls;
    expect(Object.keys(kubernetes).sort()).toEqual([
      'rollout-verifier-callback',
      'rollout-verifier-gate',
      'rollout-verifier-sentinel',
      'rollout-verifier-verify',
    ]);
    // the gate reads the Rollout (its current step and revision), as the observer group may
    expect(Object.keys(kubernetes['rollout-verifier-gate'] ?? {})).toEqual(['get rollouts']);
    // the sentinel reads the Rollout and, for the ALB, the Services and their EndpointSlices
    expect(Object.keys(kubernetes['rollout-verifier-sentinel'] ?? {}).sort()).toEqual([
      'get rollouts',
      'get services',
      'list endpointslices',
    ]);
    // the observer only reads the Rollout (where it is now), Services (their target ports), EndpointSlices, VirtualServices and
    // Mappings (a deleted canary Mapping answers 404); the callback only reads and patches Rollouts
    // and creates Events
    expect(Object.keys(kubernetes['rollout-verifier-verify'] ?? {}).sort()).toEqual([
      'get mappings',
      'get mappings (404)',
      'get rollouts',
      'get services',
      'get virtualservices',
      'list endpointslices',
    ]);
    // two verdicts on one paused weight may both promote: the second write is refused (409, its
    // precondition no longer holds) and re-read
    const callbackCalls = Object.keys(kubernetes['rollout-verifier-callback'] ?? {}).sort();
    expect(callbackCalls).toEqual(
      expect.arrayContaining(['create events', 'get rollouts', 'patch rollouts/status']),
    );
    expect(
      callbackCalls.filter(
        (call) =>
          !['create events', 'get rollouts', 'patch rollouts/status', 'patch rollouts/status (409)'].includes(
            call,
          ),
      ),
    ).toEqual([]);
    // one DescribeCluster per function container (cached for 10 minutes)
    expect(eks).toEqual({
      'DescribeCluster by rollout-verifier-verify': 1,
      'DescribeCluster by rollout-verifier-callback': 1,
      'DescribeCluster by rollout-verifier-gate': 1,
      'DescribeCluster by rollout-verifier-sentinel': 1,
    });
  });

  it('contacts nothing outside 127.0.0.1', () => {
    expect(result.network.connections).toBeGreaterThan(0);
    expect(result.network.outsideLoopback).toEqual([]);
  });
});

/** The stand-ins the demo trusts must refuse what AWS and EKS refuse, or the demo proves nothing. */
describe("the demo's AWS and EKS stand-ins", () => {
  const verifyRole: IamIdentity = {
    accessKeyId: 'AKIAEXAMPLEVERIFY001',
    secretAccessKey: 'verify-secret-key-0123456789abcdefghijkl',
    roleName: 'rollout-verifier-verify',
    sessionName: 'rollout-verifier-verify',
    kubernetesGroups: ['rollout-verifier-observer'],
  };
  const signing = { accessKeyId: verifyRole.accessKeyId, secretAccessKey: verifyRole.secretAccessKey };

  it('authenticates an EKS token as aws-iam-authenticator and STS do', async () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const authenticator = eksAuthenticator({
      clusterName: 'demo',
      region: 'eu-west-1',
      identities: [verifyRole],
      now: () => now,
    });
    const token = async (options: { clusterName?: string; secretAccessKey?: string; at?: Date }) =>
      (
        await createEksToken({
          clusterName: options.clusterName ?? 'demo',
          region: 'eu-west-1',
          credentials: { ...signing, secretAccessKey: options.secretAccessKey ?? signing.secretAccessKey },
          now: options.at ?? now,
        })
      ).token;

    expect(authenticator.authenticate(await token({}))).toEqual({
      user: 'arn:aws:sts::123456789012:assumed-role/rollout-verifier-verify/rollout-verifier-verify',
      groups: ['rollout-verifier-observer', 'system:authenticated'],
    });
    expect(authenticator.authenticate(await token({ clusterName: 'prod' }))).toBeUndefined();
    expect(authenticator.authenticate(await token({ secretAccessKey: 'another-secret' }))).toBeUndefined();
    expect(
      authenticator.authenticate(await token({ at: new Date(now.getTime() - 16 * 60_000) })),
    ).toBeUndefined();
    expect(authenticator.authenticate('k8s-aws-v1.bm90LWEtdXJs')).toBeUndefined();
    expect(authenticator.rejections).toEqual([
      expect.stringMatching(/signature does not match/),
      expect.stringMatching(/signature does not match/),
      'token is expired',
      'token payload is not a URL',
    ]);
  });

  it('answers DescribeCluster only to a correctly signed request', async () => {
    const eks = await startEksSim({
      region: 'eu-west-1',
      clusters: [
        { name: 'demo', endpoint: 'https://127.0.0.1:6443', caPem: '-----BEGIN CERTIFICATE-----\n' },
      ],
      identities: [verifyRole],
    });
    const client = (secretAccessKey: string) =>
      new EKSClient({
        region: 'eu-west-1',
        endpoint: eks.endpoint,
        credentials: { ...signing, secretAccessKey },
      });
    try {
      const { cluster } = await client(signing.secretAccessKey).send(
        new DescribeClusterCommand({ name: 'demo' }),
      );
      expect(cluster).toMatchObject({ name: 'demo', status: 'ACTIVE', endpoint: 'https://127.0.0.1:6443' });
      expect(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString()).toContain(
        'BEGIN CERTIFICATE',
      );
      await expect(
        client(signing.secretAccessKey).send(new DescribeClusterCommand({ name: 'other' })),
      ).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
      await expect(client('wrong-secret').send(new DescribeClusterCommand({ name: 'demo' }))).rejects.toThrow(
        expect.objectContaining({ name: 'InvalidSignatureException' }),
      );
    } finally {
      await eks.close();
    }
  });

  it('evaluates DynamoDB condition expressions and refuses unused names', async () => {
    const dynamodb = await startDynamoDbSim({
      tables: { state: 'id' },
      credentials: { [signing.accessKeyId]: signing.secretAccessKey },
    });
    const client = new DynamoDBClient({
      region: 'eu-west-1',
      endpoint: dynamodb.endpoint,
      credentials: signing,
    });
    const put = (status: string, condition: string, values: Record<string, unknown> = {}) =>
      client.send(
        new PutItemCommand({
          TableName: 'state',
          Item: { id: { S: 'k' }, status: { S: status }, expiration: { N: '100' } },
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#id': 'id',
            ...(condition.includes('#expiry') ? { '#expiry': 'expiration' } : {}),
          },
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values as never } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    try {
      await put('INPROGRESS', 'attribute_not_exists(#id)');
      await expect(put('INPROGRESS', 'attribute_not_exists(#id)')).rejects.toThrow(
        expect.objectContaining({
          name: 'ConditionalCheckFailedException',
          Item: expect.objectContaining({ status: { S: 'INPROGRESS' } }),
        }),
      );
      // expired (100 < 200): the condition holds and the put replaces the item
      await put('COMPLETED', 'attribute_not_exists(#id) OR (#expiry < :now AND attribute_exists(#id))', {
        ':now': { N: '200' },
      });
      expect(dynamodb.items('state')).toEqual([
        { id: { S: 'k' }, status: { S: 'COMPLETED' }, expiration: { N: '100' } },
      ]);
      await expect(
        client.send(
          new PutItemCommand({
            TableName: 'state',
            Item: { id: { S: 'x' } },
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': 'id', '#unused': 'status' },
          }),
        ),
      ).rejects.toThrow(expect.objectContaining({ name: 'ValidationException' }));
    } finally {
      client.destroy();
      await dynamodb.close();
    }
  });
});
