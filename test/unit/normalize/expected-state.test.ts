import { describe, expect, it } from 'vitest';
import type { RolloutTrigger } from '../../../contract/event-catalog.js';
import {
  deriveExpectedState,
  lastSetWeightAtOrBefore,
  replicasForWeight,
  setCanaryScaleAt,
} from '../../../lambdas/core/normalize/expected-state.js';
import type { NotificationRollout } from '../../../lambdas/core/normalize/notification-body.js';
import { blueGreenRollout, type CanaryOptions, canaryRollout, STEPS } from './rollout-builder.js';

type SuccessorRow = [canary: number, stable: number, reason: string];

interface Case {
  name: string;
  trigger: RolloutTrigger;
  rollout: NotificationRollout;
  canary: number;
  stable: number;
  successors: SuccessorRow[];
  minCanary: number;
  minStable: number;
  maxWeight?: number;
  stepIndex?: number;
  aborted?: boolean;
  derivation?: RegExp;
}

const ALL_DONE_100: SuccessorRow = [100, 0, 'all steps done'];
const PROMOTED_100: SuccessorRow = [0, 100, 'fully promoted'];
const AFTER_STEP_2: SuccessorRow[] = [
  [60, 40, 'setWeight at step 4'],
  [80, 20, 'setWeight at step 6'],
  ALL_DONE_100,
  PROMOTED_100,
];

const c = (options: CanaryOptions) => canaryRollout(options);

const cases: Case[] = [
  {
    name: 'step-completed on the first setWeight: successors stop at the indefinite pause',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: 0, updated: 2, weights: [20, 80] }),
    canary: 20,
    stable: 80,
    successors: [],
    minCanary: 2,
    minStable: 1,
    derivation: /^setWeight 20 at step 0 \(step 0 just completed\)$/,
  },
  {
    name: 'step-completed on the indefinite pause (promoted by hand): every later setWeight follows',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: 1, updated: 2 }),
    canary: 20,
    stable: 80,
    successors: [[40, 60, 'setWeight at step 2'], ...AFTER_STEP_2],
    minCanary: 2,
    minStable: 1,
    derivation: /^setWeight 20 at step 0 \(step 1 just completed\)$/,
  },
  {
    name: 'step-completed on setWeight 40: the pre-transition index is the finished step',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: 2, updated: 4 }),
    canary: 40,
    stable: 60,
    successors: AFTER_STEP_2,
    minCanary: 4,
    minStable: 1,
    derivation: /^setWeight 40 at step 2 \(step 2 just completed\)$/,
  },
  {
    name: 'step-completed on the last (timed) pause: end of steps, then fully promoted',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: 7, updated: 8 }),
    canary: 80,
    stable: 20,
    successors: [ALL_DONE_100, PROMOTED_100],
    minCanary: 8,
    minStable: 1,
  },
  {
    name: 'step-completed, even with counts that lag: a completed setWeight step was at its count',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: 2, updated: 2 }),
    canary: 40,
    stable: 60,
    successors: AFTER_STEP_2,
    minCanary: 4,
    minStable: 1,
  },
  {
    name: 'paused at the indefinite pause: nothing follows on its own',
    trigger: 'on-rollout-paused',
    rollout: c({ index: 1, updated: 2 }),
    canary: 20,
    stable: 80,
    successors: [],
    minCanary: 2,
    minStable: 1,
    derivation: /paused at step 1/,
  },
  {
    name: 'paused at a timed pause: the rollout continues by itself',
    trigger: 'on-rollout-paused',
    rollout: c({ index: 3, updated: 4 }),
    canary: 40,
    stable: 60,
    successors: AFTER_STEP_2,
    minCanary: 4,
    minStable: 1,
  },
  {
    name: 'resumed at the indefinite pause (pre-transition pause condition still present)',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 1, updated: 2, pauseReasons: ['CanaryPauseStep'] }),
    canary: 20,
    stable: 80,
    successors: [[40, 60, 'setWeight at step 2'], ...AFTER_STEP_2],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'user-paused at a setWeight step whose canary is still scaling: previous weight, held',
    trigger: 'on-rollout-paused',
    rollout: c({ index: 2, updated: 3, available: 12, specPaused: true }),
    canary: 20,
    stable: 80,
    successors: [[40, 60, 'setWeight at step 2']],
    minCanary: 2,
    minStable: 1,
    derivation:
      /^setWeight 20 at step 0 still holds, while the canary scales to the 4 replica\(s\) setWeight 40 at step 2 needs \(updatedReplicas 3, availableReplicas 12 of 13; paused at step 2\)$/,
  },
  {
    name: 'resumed at a setWeight step whose canary is still scaling: previous weight, then the rest',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 2, updated: 4, total: 14, available: 12 }),
    canary: 20,
    stable: 80,
    successors: [[40, 60, 'setWeight at step 2'], ...AFTER_STEP_2],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'resumed at a setWeight step whose canary is at its count: that setWeight',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 2, updated: 4 }),
    canary: 40,
    stable: 60,
    successors: AFTER_STEP_2,
    minCanary: 4,
    minStable: 1,
  },
  {
    name: 'resumed at a setWeight step whose canary has no pods: 0, as Argo does without available pods',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 2, updated: 0 }),
    canary: 0,
    stable: 100,
    derivation: /^canary 0: the new ReplicaSet has no available pods yet, while the canary scales/,
    // "fully promoted" is the expected split itself, so it is not repeated as a successor.
    successors: [
      [40, 60, 'setWeight at step 2'],
      [60, 40, 'setWeight at step 4'],
      [80, 20, 'setWeight at step 6'],
      ALL_DONE_100,
    ],
    minCanary: 0,
    minStable: 1,
  },
  {
    name: 'currentStepIndex absent: treated as step 0',
    trigger: 'on-rollout-step-completed',
    rollout: c({ index: null, updated: 2 }),
    canary: 20,
    stable: 80,
    successors: [],
    minCanary: 2,
    minStable: 1,
    stepIndex: 0,
  },
  {
    name: 'index at len(steps), canary fully scaled: maxTrafficWeight until promoted',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 8, updated: 10 }),
    canary: 100,
    stable: 0,
    successors: [PROMOTED_100],
    minCanary: 10,
    minStable: 0,
    stepIndex: 8,
  },
  {
    name: 'index at len(steps), canary still scaling: the last setWeight holds',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 8, updated: 8 }),
    canary: 80,
    stable: 20,
    successors: [ALL_DONE_100, PROMOTED_100],
    minCanary: 8,
    minStable: 1,
  },
  {
    name: 'completed: stableRS still old in the payload, expected is the promoted state',
    trigger: 'on-rollout-completed',
    rollout: c({ index: 8, updated: 10, weights: [100, 0] }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    stepIndex: 8,
    derivation: /^rollout completed: revision 5 becomes stable/,
  },
  {
    name: 'fully promoted (stableRS == currentPodHash)',
    trigger: 'on-rollout-paused',
    rollout: c({ index: 8, stableRS: 'same1', currentPodHash: 'same1' }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
  },
  {
    name: 'aborted by the user (status.abort)',
    trigger: 'on-rollout-aborted',
    rollout: c({ index: 4, updated: 6, abort: true, weights: [60, 40] }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    aborted: true,
    stepIndex: 4,
    derivation: /^aborted: all traffic returns to the stable side$/,
  },
  {
    name: 'aborted by the controller: status.abort not yet written in the snapshot',
    trigger: 'on-rollout-aborted',
    rollout: c({ index: 2, updated: 4, abort: false }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    aborted: true,
  },
  {
    name: 'status.abort on another trigger still means canary 0',
    trigger: 'on-rollout-paused',
    rollout: c({ index: 2, updated: 4, abort: true }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    aborted: true,
  },
  {
    name: 'aborted with dynamicStableScale: the end state, named in the derivation',
    trigger: 'on-rollout-aborted',
    rollout: c({ index: 4, updated: 6, abort: true, dynamicStableScale: true }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    derivation: /dynamicStableScale/,
  },
  {
    name: 'updated: the status is the previous revision, the new canary starts at 0 and restarts at step 0',
    trigger: 'on-rollout-updated',
    rollout: c({ index: 8, stableRS: 'prev1', currentPodHash: 'prev1', abort: true, revision: '6' }),
    canary: 0,
    stable: 100,
    successors: [[20, 80, 'setWeight at step 0']],
    minCanary: 0,
    minStable: 1,
    stepIndex: 0,
    aborted: false,
    derivation: /^new revision 6: /,
  },
  {
    name: 'updated on the initial deploy: promoted without steps',
    trigger: 'on-rollout-updated',
    rollout: c({ index: null, stableRS: null, revision: '1' }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    derivation: /^initial deploy \(revision 1\)/,
  },
  {
    name: 'promote --full: the applied weight is frozen until promotion',
    trigger: 'on-rollout-resumed',
    rollout: c({ index: 1, updated: 6, promoteFull: true, weights: [40, 60] }),
    canary: 40,
    stable: 60,
    successors: [PROMOTED_100],
    minCanary: 4,
    minStable: 1,
  },
  {
    name: 'canary without steps: never any canary weight',
    trigger: 'on-rollout-paused',
    rollout: c({ steps: [], index: null, updated: 5 }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 1,
    stepIndex: 0,
  },
  {
    name: 'maxTrafficWeight 1000: weights in thousandths, replicas from weight / 1000',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [
        { setWeight: 5 },
        { pause: { duration: '5m' } },
        { setWeight: 250 },
        { pause: { duration: 60 } },
      ],
      routing: { maxTrafficWeight: 1000, alb: { ingress: 'search', servicePort: 443 } },
      replicas: 20,
      index: 2,
      updated: 5,
    }),
    canary: 250,
    stable: 750,
    maxWeight: 1000,
    successors: [
      [1000, 0, 'all steps done'],
      [0, 1000, 'fully promoted'],
    ],
    minCanary: 5,
    minStable: 1,
    derivation: /weights out of maxTrafficWeight 1000/,
  },
  {
    name: 'setCanaryScale replicas: 2 pods carry setWeight 10',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [{ setCanaryScale: { replicas: 2 } }, { setWeight: 10 }, { pause: {} }],
      index: 1,
      updated: 2,
    }),
    canary: 10,
    stable: 90,
    successors: [],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'setCanaryScale weight 30 with setWeight 10: 3 pods',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [{ setCanaryScale: { weight: 30 } }, { setWeight: 10 }, { pause: {} }],
      index: 1,
      updated: 3,
    }),
    canary: 10,
    stable: 90,
    successors: [],
    minCanary: 3,
    minStable: 1,
  },
  {
    name: 'setCanaryScale matchTrafficWeight switches back to weight-derived replicas',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [
        { setCanaryScale: { replicas: 2 } },
        { setWeight: 10 },
        { setCanaryScale: { matchTrafficWeight: true } },
        { setWeight: 50 },
        { pause: {} },
      ],
      index: 3,
      updated: 5,
    }),
    canary: 50,
    stable: 50,
    successors: [],
    minCanary: 5,
    minStable: 1,
  },
  {
    name: 'minPodsPerReplicaSet raises the canary count',
    trigger: 'on-rollout-step-completed',
    rollout: c({ steps: [{ setWeight: 10 }, { pause: {} }], index: 0, updated: 3, minPodsPerReplicaSet: 3 }),
    canary: 10,
    stable: 90,
    successors: [],
    minCanary: 3,
    minStable: 1,
  },
  {
    name: 'running experiment: its destinations take weight from stable',
    trigger: 'on-rollout-paused',
    rollout: c({
      steps: [
        { setWeight: 20 },
        { experiment: { duration: '5m', templates: [{ name: 'baseline', specRef: 'stable', weight: 10 }] } },
        { pause: {} },
      ],
      index: 1,
      updated: 2,
      pauseReasons: ['CanaryPauseStep'],
      weights: [20, 70],
      additional: [10],
    }),
    canary: 20,
    stable: 70,
    successors: [[20, 80, 'experiment finished']],
    minCanary: 2,
    minStable: 1,
    derivation: /experiment destinations take 10 from stable/,
  },
  {
    name: 'completed experiment step: no experiment weight any more',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [
        { setWeight: 20 },
        { experiment: { templates: [{ name: 'baseline', weight: 10 }] } },
        { setWeight: 50 },
      ],
      index: 1,
      updated: 2,
      weights: [20, 70],
      additional: [10],
    }),
    canary: 20,
    stable: 80,
    successors: [[50, 50, 'setWeight at step 2'], ALL_DONE_100, PROMOTED_100],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'inconclusive analysis pause holds the rollout',
    trigger: 'on-rollout-paused',
    rollout: c({
      steps: [
        { setWeight: 20 },
        { analysis: { templates: [{ templateName: 'error-rate' }] } },
        { setWeight: 50 },
      ],
      index: 1,
      updated: 2,
      pauseReasons: ['InconclusiveAnalysisRun'],
    }),
    canary: 20,
    stable: 80,
    successors: [],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'header and mirror route steps do not stop the successors',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [
        { setWeight: 20 },
        {
          setHeaderRoute: {
            name: 'canary-header',
            match: [{ headerName: 'x-canary', headerValue: { exact: '1' } }],
          },
        },
        { setMirrorRoute: { name: 'mirror', percentage: 50 } },
        { pause: { duration: 10 } },
        { setWeight: 50 },
      ],
      index: 0,
      updated: 2,
    }),
    canary: 20,
    stable: 80,
    successors: [[50, 50, 'setWeight at step 4'], ALL_DONE_100, PROMOTED_100],
    minCanary: 2,
    minStable: 1,
  },
  {
    name: 'canary without traffic routing: replica-count split, floor of the replicas as the minimum',
    trigger: 'on-rollout-step-completed',
    rollout: c({
      steps: [{ setWeight: 50 }, { pause: {} }],
      routing: null,
      replicas: 5,
      index: 0,
      updated: 3,
    }),
    canary: 50,
    stable: 50,
    successors: [],
    minCanary: 2,
    minStable: 1,
    derivation: /no traffic routing: the split follows replica counts/,
  },
  {
    name: 'blue-green before promotion: the active side takes everything',
    trigger: 'on-rollout-paused',
    rollout: blueGreenRollout({ blueGreen: { activeSelector: 'old1', previewSelector: 'new1' } }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 3,
    stepIndex: 0,
    derivation: /^blue-green paused before promotion/,
  },
  {
    name: 'blue-green after promotion (completed)',
    trigger: 'on-rollout-completed',
    rollout: blueGreenRollout({ blueGreen: { activeSelector: 'new1', previewSelector: 'new1' } }),
    canary: 0,
    stable: 100,
    successors: [],
    minCanary: 0,
    minStable: 3,
    derivation: /^blue-green completed: revision 9/,
  },
];

describe('deriveExpectedState', () => {
  it('has at least 20 table cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name', (testCase) => {
    const { expected, step, aborted } = deriveExpectedState(testCase.trigger, testCase.rollout);
    expect(expected.canaryWeight).toBe(testCase.canary);
    expect(expected.stableWeight).toBe(testCase.stable);
    expect(expected.maxWeight).toBe(testCase.maxWeight ?? 100);
    expect(
      expected.successors.map((successor) => [
        successor.canaryWeight,
        successor.stableWeight,
        successor.reason,
      ]),
    ).toEqual(testCase.successors);
    expect(expected.minHealthyCanaryTargets).toBe(testCase.minCanary);
    expect(expected.minHealthyStableTargets).toBe(testCase.minStable);
    if (testCase.stepIndex !== undefined) expect(step.index).toBe(testCase.stepIndex);
    if (testCase.aborted !== undefined) expect(aborted).toBe(testCase.aborted);
    if (testCase.derivation) expect(expected.derivation).toMatch(testCase.derivation);
  });

  it('reports controllerApplied from status.canary.weights, verified included', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-paused',
      canaryRollout({ index: 1, updated: 2, weights: [20, 80] }),
    );
    expect(expected.controllerApplied).toEqual({ canaryWeight: 20, stableWeight: 80, verified: true });
  });

  it('leaves controllerApplied out on a setWeight step’s step-completed: the snapshot predates the weight', () => {
    // As the real controller posts it: step 0 (setWeight 20) completed, status.canary.weights still 0/100.
    const snapshot = canaryRollout({ index: 0, updated: 2, weights: [0, 100] });
    const { expected } = deriveExpectedState('on-rollout-step-completed', snapshot);
    expect(expected.controllerApplied).toBeUndefined();
    expect(expected.canaryWeight).toBe(20);
    // The step-completed of a pause carries the weights in force.
    const paused = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({ index: 1, updated: 2, weights: [20, 80] }),
    );
    expect(paused.expected.controllerApplied).toMatchObject({ canaryWeight: 20 });
  });

  it('leaves controllerApplied out when the status weights are outside the verifier range', () => {
    // Old controllers wrote stable = 100 − canary even with maxTrafficWeight 1000.
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({
        steps: [{ setWeight: 250 }],
        routing: { maxTrafficWeight: 1000, alb: { ingress: 'search', servicePort: 443 } },
        index: 0,
        updated: 3,
        weights: [250, -150],
      }),
    );
    expect(expected.controllerApplied).toBeUndefined();
    expect(expected.canaryWeight).toBe(250);
    expect(expected.stableWeight).toBe(750);
  });

  it('omits controllerApplied without traffic routing weights', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({ index: 0, updated: 2 }),
    );
    expect(expected.controllerApplied).toBeUndefined();
  });

  it('never lists a successor equal to the expected state or twice', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({
        steps: [{ setWeight: 20 }, { pause: { duration: 10 } }, { setWeight: 20 }, { setWeight: 50 }],
        index: 0,
        updated: 2,
      }),
    );
    expect(expected.successors.map((successor) => successor.canaryWeight)).toEqual([50, 100, 0]);
  });

  it('names the unsupported router in the derivation', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({ routing: { nginx: { stableIngress: 'checkout' } }, index: 2, updated: 4 }),
    );
    expect(expected.derivation).toBe(
      'setWeight 40 at step 2 (step 2 just completed); traffic routing via nginx is not verified',
    );
  });
});

describe('step helpers', () => {
  it('finds the last setWeight at or before an index', () => {
    expect(lastSetWeightAtOrBefore(STEPS, 0)).toEqual({ weight: 20, at: 0 });
    expect(lastSetWeightAtOrBefore(STEPS, 3)).toEqual({ weight: 40, at: 2 });
    expect(lastSetWeightAtOrBefore(STEPS, 99)).toEqual({ weight: 80, at: 6 });
    expect(lastSetWeightAtOrBefore([{ pause: {} }], 0)).toBeUndefined();
    expect(lastSetWeightAtOrBefore(STEPS, -1)).toBeUndefined();
  });

  it('finds the setCanaryScale in force, none after matchTrafficWeight', () => {
    const steps = [
      { setCanaryScale: { replicas: 2 } },
      { setWeight: 10 },
      { setCanaryScale: { matchTrafficWeight: true } },
      { setWeight: 50 },
    ];
    expect(setCanaryScaleAt(steps, 1)).toEqual({ replicas: 2 });
    expect(setCanaryScaleAt(steps, 3)).toBeUndefined();
    expect(setCanaryScaleAt(STEPS, 5)).toBeUndefined();
  });

  it('rounds replicas up like trafficWeightToReplicas', () => {
    expect(replicasForWeight(10, 0, 100)).toBe(0);
    expect(replicasForWeight(10, 20, 100)).toBe(2);
    expect(replicasForWeight(10, 25, 100)).toBe(3);
    expect(replicasForWeight(10, 33, 100)).toBe(4);
    expect(replicasForWeight(10, 99, 100)).toBe(10);
    expect(replicasForWeight(20, 5, 1000)).toBe(1);
    expect(replicasForWeight(20, 250, 1000)).toBe(5);
  });
});
