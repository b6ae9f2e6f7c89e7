import type { CallbackAction } from '../lambdas/core/callback/respond.js';
import type { Verdict } from '../lambdas/core/contracts/verdict-event.js';
import type { AnalysisRunPhase, AnalysisStep } from '../sim/argo-analysis.js';
import { PROMOTE_ANNOTATION } from '../sim/argo-cluster.js';
import { CanaryRolloutDriver, type CanaryStep } from '../sim/argo-driver.js';
import { FAILED_UNLESS_ABORTED } from './expected-verdicts.js';
import { MESH_SCENARIOS } from './mesh-scenarios.js';
import { TRAFFIC_SCENARIOS } from './traffic-scenarios.js';
import type { World } from './world.js';

export interface Scenario {
  name: string;
  rollout: string;
  /**
   * The verdicts the pipeline must reach, one per notification Argo sent, in the order Argo sent
   * them (on-rollout-updated, each step's step-completed, on-rollout-paused…: what the real
   * controller sends, lab/FINDINGS.md). A list allows either verdict: two verifications of one
   * state race the callback's abort, and the later one may see the abort already carried out.
   */
  expected: Array<Verdict | readonly Verdict[]>;
  /** What the callback did to the Rollout, in order: its aborts and promotes ("none" left out, redeliveries not counted). */
  expectedActions: Array<Exclude<CallbackAction, 'none'>>;
  /** What the finding codes of the first non-Succeeded verdict (else the last) must include. */
  expectedFindings?: string[];
  /** The traffic looks' verdicts, in order (docs/traffic-observed.md); unchecked when absent. */
  expectedTraffic?: Verdict[];
  /** What the finding codes of the first non-Succeeded traffic look must include. */
  expectedTrafficFindings?: string[];
  /** The phases of the AnalysisRuns Argo ran for the rollout's analysis steps, in order. */
  expectedAnalysisRuns?: AnalysisRunPhase[];
  /** The finding codes the drift sentinel's drift events must carry (one event at least). */
  expectedDrift?: string[];
  run(world: World): Promise<void>;
}

const REPLICAS = 4;
const STEPS: CanaryStep[] = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: {} },
  { setWeight: 100 },
];
const PROMOTE_ON_SUCCESS = { [PROMOTE_ANNOTATION]: 'true' };

/**
 * An inline analysis step of the ClusterAnalysisTemplate deploy/cluster/analysis installs, with the
 * args docs/analysis-gate.md shows: the Rollout's namespace and name, and the canary's hash.
 */
const GATE_STEP: { analysis: AnalysisStep } = {
  analysis: {
    templates: [{ templateName: 'rollout-verifier', clusterScope: true }],
    args: [
      { name: 'namespace', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'rollout', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
    ],
  },
};
const GATED_STEPS: CanaryStep[] = [{ setWeight: 20 }, GATE_STEP, { setWeight: 50 }, GATE_STEP];
/** Gate mode: Argo acts on the AnalysisRun; the callback only writes Events (no abort, no promote). */
const GATE_MODE = { 'rollout-verifier.io/abort-on-failure': 'false' };

export const GATE_SCENARIOS: Scenario[] = [
  {
    name: 'analysis gate: each step held by its AnalysisRun until the ALB converges',
    rollout: 'shop/wishlist',
    // updated; setWeight 20 and its analysis step; setWeight 50 and its analysis step; completed
    // (verified by the verify function beside the gate)
    expected: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: [],
    expectedAnalysisRuns: ['Successful', 'Successful'],
    async run(world) {
      world.canaryRollout({
        name: 'wishlist',
        replicas: REPLICAS,
        steps: GATED_STEPS,
        // The controller applies each weight 1.2 s late while the verify function and the gate
        // observe side by side on the account's shared Describe budget: 6 s to converge, not 3.
        annotations: { ...GATE_MODE, 'rollout-verifier.io/deadline-seconds': '6' },
        controller: { appliesWeightsAfterMs: 1200 },
      });
      await world.settle();
    },
  },
  {
    name: 'analysis gate: the AnalysisRun fails and Argo aborts by itself (no callback write)',
    rollout: 'shop/favorites',
    // updated; setWeight 20 Failed: UnhealthyTargets (the AnalysisRun fails on it); then the
    // aborted rollout at 100 % stable
    expected: ['Succeeded', 'Failed', 'Succeeded'],
    expectedActions: [],
    expectedFindings: ['UnhealthyTargets'],
    expectedAnalysisRuns: ['Failed'],
    async run(world) {
      world.canaryRollout({
        name: 'favorites',
        replicas: REPLICAS,
        steps: GATED_STEPS,
        // Unhealthy targets do not heal by waiting: a 1 s deadline, for the verify function and the
        // gate alike (both observe side by side and share the account's ELBv2 Describe budget).
        annotations: { ...GATE_MODE, 'rollout-verifier.io/deadline-seconds': '1' },
        canaryPodsFailingHealthChecks: 1,
      });
      await world.settle();
    },
  },
];

/**
 * First in the demo on purpose: the sentinel re-verifies every watched rollout that is due, and
 * here that is only this one (the demo's schedule interval is 1 s).
 */
export const DRIFT_SCENARIO: Scenario = {
  name: 'drift: a listener rule edited by hand after the step was Succeeded → VerificationDrift',
  rollout: 'shop/catalog',
  // setWeight 20 (Succeeded), then the rollout waits at its pause {}: nobody promotes it
  // updated, setWeight 20, the pause; then the sentinel's drift
  expected: ['Succeeded', 'Succeeded', 'Succeeded'],
  expectedActions: [],
  expectedDrift: ['WeightMismatch'],
  async run(world) {
    const rollout = world.canaryRollout({ name: 'catalog', replicas: REPLICAS, steps: STEPS });
    await world.settle();
    world.note(rollout.key, 'someone edits both listener rules by hand: canary 10 / stable 90');
    for (const rule of rollout.alb.ruleArns) {
      world.elb.setRuleWeights(rule, {
        [rollout.alb.stableTargetGroupArn]: 90,
        [rollout.alb.canaryTargetGroupArn]: 10,
      });
    }
    // The next run of the sentinel's schedule, once the step's verdict is older than the interval.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const report = await world.runSentinel();
    world.note(
      rollout.key,
      `drift sentinel (EventBridge Scheduler): ${report.watched} watched, ${report.due} due, ${report.verified} re-verified, drift in ${report.drifted.join(', ') || 'none'}`,
    );
    await world.settle();
  },
};

export const SCENARIOS: Scenario[] = [
  DRIFT_SCENARIO,
  {
    name: 'healthy canary 20 → 50 → 100, promoted by the verifier at each pause',
    rollout: 'shop/checkout',
    // updated (canary 0), then for 20 and 50: the setWeight's step-completed, on-rollout-paused
    // and the pause's step-completed once promoted; setWeight 100; the completed rollout
    expected: Array(9).fill('Succeeded'),
    // each pause {} once, by whichever verdict of its weight came first; after 100 none is left
    expectedActions: ['promoted', 'promoted'],
    async run(world) {
      world.canaryRollout({
        name: 'checkout',
        replicas: REPLICAS,
        steps: STEPS,
        annotations: PROMOTE_ON_SUCCESS,
      });
      await world.settle();
    },
  },
  {
    name: 'weights never applied (controller throttled) → aborted',
    rollout: 'shop/cart',
    // updated; Failed at setWeight 20 (and at the pause behind it, unless the abort was carried
    // out before its last look); then the aborted rollout is verified back at 100 % stable
    expected: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
    expectedActions: ['aborted'],
    expectedFindings: ['WeightMismatch'],
    async run(world) {
      world.canaryRollout({
        name: 'cart',
        replicas: REPLICAS,
        steps: STEPS,
        controller: { throttled: true },
      });
      await world.settle();
    },
  },
  {
    name: 'unhealthy canary targets → aborted',
    rollout: 'shop/search',
    expected: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
    expectedActions: ['aborted'],
    expectedFindings: ['UnhealthyTargets'],
    async run(world) {
      world.canaryRollout({
        name: 'search',
        replicas: REPLICAS,
        steps: STEPS,
        canaryPodsFailingHealthChecks: 1,
      });
      await world.settle();
    },
  },
  {
    name: 'half-registered target group (controller lags) → aborted',
    rollout: 'shop/inventory',
    expected: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
    expectedActions: ['aborted'],
    expectedFindings: ['TargetNotRegistered'],
    async run(world) {
      world.canaryRollout({
        name: 'inventory',
        replicas: REPLICAS,
        steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }],
        controller: { unregisteredCanaryPods: 1 },
      });
      await world.settle();
    },
  },
  {
    name: 'AccessDenied → Inconclusive: no abort, the alarm metric',
    rollout: 'shop/payments',
    // updated, setWeight 20, the pause: none can see target health
    expected: ['Inconclusive', 'Inconclusive', 'Inconclusive'],
    expectedActions: [],
    expectedFindings: ['AccessDenied'],
    async run(world) {
      world.elb.denyAction('DescribeTargetHealth');
      world.note('shop/payments', 'IAM: the verifier role lost elasticloadbalancing:DescribeTargetHealth');
      try {
        world.canaryRollout({ name: 'payments', replicas: REPLICAS, steps: STEPS });
        await world.settle();
      } finally {
        world.elb.allowAction('DescribeTargetHealth');
      }
    },
  },
  {
    name: 'blue-green switch',
    rollout: 'shop/profile',
    expected: ['Succeeded'],
    expectedActions: [],
    async run(world) {
      const rollout = world.blueGreenRollout({ name: 'profile', replicas: REPLICAS });
      world.note('shop/profile', 'a person runs: kubectl argo rollouts promote profile');
      rollout.promote();
      await world.settle();
    },
  },
  {
    name: 'duplicate deliveries → one verification, one action',
    rollout: 'shop/orders',
    // updated, setWeight 20, the pause (promoted), its step-completed, then the completed
    // rollout: each posted twice by Argo, each verdict delivered twice by EventBridge
    expected: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: ['promoted'],
    async run(world) {
      world.deliverVerdictsTwice('shop/orders');
      world.note(
        'shop/orders',
        'EventBridge delivers every verdict of this rollout twice (at-least-once delivery)',
      );
      world.canaryRollout({
        name: 'orders',
        replicas: REPLICAS,
        steps: [{ setWeight: 20 }, { pause: {} }],
        annotations: PROMOTE_ON_SUCCESS,
        argoPostsTwice: true,
      });
      await world.settle();
    },
  },
  {
    name: "a stranger's POST → 401, nothing published",
    rollout: 'shop/ledger',
    expected: [],
    expectedActions: [],
    async run(world) {
      const argo = new CanaryRolloutDriver({
        namespace: 'shop',
        name: 'ledger',
        replicas: REPLICAS,
        steps: STEPS,
        ingress: 'ledger',
        stableService: 'ledger',
        canaryService: 'ledger-canary',
      });
      const answer = await world.notify(argo.stepCompleted(0), { token: 'guessed-token-0123456789abcdef' });
      await world.bus.drain();
      if (answer.statusCode !== 401 || answer.published) {
        throw new Error(`ingest answered ${answer.statusCode} to a wrong token`);
      }
    },
  },
  // Istio VirtualService and Ambassador Mapping routers (demo/mesh-scenarios.ts)
  ...MESH_SCENARIOS,
  // What the ALB really served, from CloudWatch (demo/traffic-scenarios.ts)
  ...TRAFFIC_SCENARIOS,
  // Argo's own analysis, with the verifier as its web metric provider (docs/analysis-gate.md)
  ...GATE_SCENARIOS,
];
