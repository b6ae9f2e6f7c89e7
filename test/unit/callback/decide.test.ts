import { describe, expect, it } from 'vitest';
import { showsOwnChange } from '../../../lambdas/core/callback/applied.js';
import { decide } from '../../../lambdas/core/callback/decide.js';
import { LiveRollout } from '../../../lambdas/core/callback/live-rollout.js';
import type { CallbackPolicy } from '../../../lambdas/core/callback/policy.js';
import { effectivePolicy } from '../../../lambdas/core/callback/policy.js';
import { promotePatches } from '../../../lambdas/core/callback/promote-patches.js';
import { verdictDetail } from '../../support/verdicts.js';

const UID = '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f';
const STEPS = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: { duration: '1h' } },
  { setWeight: 100 },
];

/** shop/checkout revision 3, paused at step 1 (`pause: {}`) after setWeight 20, as Argo leaves it. */
function live(
  changes: { spec?: object; status?: object; annotations?: Record<string, string>; uid?: string } = {},
) {
  return LiveRollout.parse({
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: changes.uid ?? UID,
      resourceVersion: '4711',
      annotations: { 'rollout.argoproj.io/revision': '3', ...changes.annotations },
    },
    spec: { strategy: { canary: { steps: STEPS } }, ...changes.spec },
    status: {
      currentStepIndex: 1,
      currentPodHash: '6d4f8c9b7',
      stableRS: '5c7b9d8e6',
      phase: 'Paused',
      controllerPause: true,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T09:00:00Z' }],
      ...changes.status,
    },
  });
}

const ABORT_ONLY: CallbackPolicy = {
  abortOnFailure: true,
  abortOnInconclusive: false,
  promoteOnSuccess: false,
  promoteInconclusiveAnalysis: false,
};
const PROMOTE: CallbackPolicy = { ...ABORT_ONLY, promoteOnSuccess: true };
const PRECONDITIONS = { uid: UID, resourceVersion: '4711' };

describe('decide: abort', () => {
  it('aborts a Failed verdict of the live uid and revision, conditional on the resourceVersion it read', () => {
    expect(decide(verdictDetail({ verdict: 'Failed' }), live(), ABORT_ONLY)).toEqual({
      action: 'abort',
      statusPatch: { status: { abort: true } },
      preconditions: PRECONDITIONS,
      reason: 'verification of step 0 ended Failed at its 30 s deadline (WeightMismatch)',
    });
  });

  it('never aborts a newer revision', () => {
    const decision = decide(
      verdictDetail({ verdict: 'Failed' }),
      live({ annotations: { 'rollout.argoproj.io/revision': '4' } }),
      ABORT_ONLY,
    );
    expect(decision).toEqual({
      action: 'none',
      wanted: 'abort',
      reason: 'the Rollout is at revision 4 now; the verdict is about revision 3',
    });
  });

  it('never aborts a re-created Rollout of the same name', () => {
    const decision = decide(verdictDetail({ verdict: 'Failed' }), live({ uid: 'another-uid' }), ABORT_ONLY);
    expect(decision).toMatchObject({ action: 'none', wanted: 'abort' });
    expect(decision.reason).toContain('re-created');
  });

  it('does not abort twice, nor a revision that is already fully promoted', () => {
    expect(
      decide(verdictDetail({ verdict: 'Failed' }), live({ status: { abort: true } }), ABORT_ONLY),
    ).toMatchObject({
      action: 'none',
      reason: 'the Rollout is already aborted',
    });
    expect(
      decide(verdictDetail({ verdict: 'Failed' }), live({ status: { stableRS: '6d4f8c9b7' } }), ABORT_ONLY),
    ).toMatchObject({ action: 'none', reason: expect.stringContaining('fully promoted') });
  });

  it('leaves a Failed verdict alone when abort is off, globally or by annotation', () => {
    const off = { ...ABORT_ONLY, abortOnFailure: false };
    expect(decide(verdictDetail({ verdict: 'Failed' }), live(), off)).toEqual({
      action: 'none',
      reason: 'abort on failure is off',
    });
    const annotated = live({ annotations: { 'rollout-verifier.io/abort-on-failure': 'false' } });
    const { policy } = effectivePolicy(ABORT_ONLY, annotated);
    expect(decide(verdictDetail({ verdict: 'Failed' }), annotated, policy).action).toBe('none');
  });

  it('never aborts on Inconclusive unless the policy says so, and never on a superseded verification', () => {
    const accessDenied = verdictDetail({
      verdict: 'Inconclusive',
      findings: [
        {
          code: 'AccessDenied',
          resource: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1',
          expected: 'allowed',
          observed: 'AccessDenied',
          message: 'no',
          missingPermission: 'elasticloadbalancing:DescribeRules',
        },
      ],
    });
    expect(decide(accessDenied, live(), ABORT_ONLY).action).toBe('none');
    const strict = { ...ABORT_ONLY, abortOnInconclusive: true };
    expect(decide(accessDenied, live(), strict).action).toBe('abort');
    const movedOn = verdictDetail({
      verdict: 'Inconclusive',
      findings: [
        { code: 'RolloutMovedOn', resource: 'x', expected: 'a', observed: 'b', message: 'moved on' },
      ],
    });
    expect(decide(movedOn, live(), strict).action).toBe('none');
  });
});

describe('decide: promote', () => {
  it('promotes a Rollout paused at the pause step right after the verified setWeight, like the plugin', () => {
    expect(decide(verdictDetail(), live(), PROMOTE)).toEqual({
      action: 'promote',
      statusPatch: { status: { pauseConditions: null } },
      preconditions: PRECONDITIONS,
      reason: 'step 0 verified (CanaryPauseStep)',
    });
  });

  it('does nothing when promote is off, and only when a Rollout opts in by annotation', () => {
    expect(decide(verdictDetail(), live(), ABORT_ONLY)).toEqual({
      action: 'none',
      reason: 'promote on success is off',
    });
    const optedIn = live({ annotations: { 'rollout-verifier.io/promote-on-success': 'true' } });
    expect(decide(verdictDetail(), optedIn, effectivePolicy(ABORT_ONLY, optedIn).policy).action).toBe(
      'promote',
    );
  });

  it('never promotes on the verdict of a new revision, a completion or an abort: no step was verified', () => {
    for (const trigger of ['on-rollout-updated', 'on-rollout-completed', 'on-rollout-aborted'] as const) {
      expect(decide(verdictDetail({ trigger }), live(), PROMOTE)).toMatchObject({
        action: 'none',
        wanted: 'promote',
        reason: expect.stringContaining(`a verdict on ${trigger} verifies no step's traffic`),
      });
    }
    // A verdict without its trigger (an older producer) releases nothing either.
    const { trigger: _omitted, ...withoutTrigger } = verdictDetail();
    expect(decide(withoutTrigger, live(), PROMOTE).action).toBe('none');
    for (const trigger of ['on-rollout-step-completed', 'on-rollout-paused', 'live'] as const) {
      expect(decide(verdictDetail({ trigger }), live(), PROMOTE).action).toBe('promote');
    }
  });

  it('does not promote on a verdict about the state the rollout had moved on to', () => {
    const movedOn = verdictDetail({
      movedOn: { step: { index: 1 }, expected: { canaryWeight: 20, stableWeight: 80 } },
    });
    expect(decide(movedOn, live(), PROMOTE)).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('moved on to step 1'),
    });
  });

  it('does not promote past a later setWeight: the verified traffic no longer applies', () => {
    const decision = decide(
      verdictDetail(),
      live({
        status: { currentStepIndex: 3, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 'x' }] },
      }),
      PROMOTE,
    );
    expect(decision).toEqual({
      action: 'none',
      wanted: 'promote',
      reason: 'the Rollout moved past the verified step 0 (step 2 changes the traffic)',
    });
  });

  it('does not promote a Rollout that is not paused, nor one paused for an inconclusive analysis unless allowed', () => {
    expect(decide(verdictDetail(), live({ status: { pauseConditions: null } }), PROMOTE)).toMatchObject({
      action: 'none',
      reason: 'the Rollout is not paused: there is nothing to promote',
    });
    const inconclusive = live({
      status: { pauseConditions: [{ reason: 'InconclusiveAnalysisRun', startTime: '2026-11-23T09:01:00Z' }] },
    });
    expect(decide(verdictDetail(), inconclusive, PROMOTE)).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('inconclusive analysis'),
    });
    expect(
      decide(verdictDetail(), inconclusive, { ...PROMOTE, promoteInconclusiveAnalysis: true }),
    ).toMatchObject({
      action: 'promote',
      statusPatch: { status: { pauseConditions: null } },
    });
  });

  it('unpauses spec.paused as the plugin does (status first, then spec)', () => {
    expect(decide(verdictDetail(), live({ spec: { paused: true } }), PROMOTE)).toMatchObject({
      action: 'promote',
      statusPatch: { status: { pauseConditions: null } },
      specPatch: { spec: { paused: false } },
    });
  });
});

describe('promotePatches: the Argo kubectl plugin default mode', () => {
  it.each([
    ['pause conditions only', {}, { statusPatch: { status: { pauseConditions: null } } }],
    [
      'spec.paused and pause conditions',
      { spec: { paused: true } },
      { statusPatch: { status: { pauseConditions: null } }, specPatch: { spec: { paused: false } } },
    ],
    [
      'spec.paused without conditions: advance the step (never past the last)',
      { spec: { paused: true }, status: { pauseConditions: null, currentStepIndex: 3 } },
      {
        statusPatch: { status: { pauseConditions: null, currentStepIndex: 4 } },
        specPatch: { spec: { paused: false } },
      },
    ],
    [
      'at the end already',
      { spec: { paused: true }, status: { pauseConditions: null, currentStepIndex: 5 } },
      {
        statusPatch: { status: { pauseConditions: null, currentStepIndex: 5 } },
        specPatch: { spec: { paused: false } },
      },
    ],
    [
      'blue-green paused for promotion',
      {
        spec: { strategy: { blueGreen: { activeService: 'a' } } },
        status: { pauseConditions: [{ reason: 'BlueGreenPause', startTime: 'x' }] },
      },
      { statusPatch: { status: { pauseConditions: null } } },
    ],
  ])('%s', (_name, changes, expected) => {
    expect(promotePatches(live(changes))).toEqual(expected);
  });
});

describe('effectivePolicy', () => {
  it('lets annotations override either way and reports values it cannot read', () => {
    const rollout = live({
      annotations: {
        'rollout-verifier.io/abort-on-failure': 'false',
        'rollout-verifier.io/promote-on-success': 'yes please',
      },
    });
    expect(effectivePolicy(PROMOTE, rollout)).toEqual({
      policy: { ...PROMOTE, abortOnFailure: false },
      ignored: ['rollout-verifier.io/promote-on-success="yes please" (expected "true" or "false")'],
    });
  });
});

describe('showsOwnChange: after a lost answer and a 409, did our write land?', () => {
  const abort = decide(verdictDetail({ verdict: 'Failed' }), live(), ABORT_ONLY);
  const promote = decide(verdictDetail(), live(), PROMOTE);
  const analysisStep = live({
    spec: { paused: true },
    status: { currentStepIndex: 2, pauseConditions: null },
  });
  const advance = decide(verdictDetail({ step: { index: 2 } }), analysisStep, PROMOTE);

  it('abort: only status.abort true on the same object', () => {
    expect(showsOwnChange(abort, live(), live({ status: { abort: true } }))).toBe(true);
    expect(showsOwnChange(abort, live(), live())).toBe(false);
    expect(showsOwnChange(abort, live(), live({ status: { abort: true }, uid: 'another-object' }))).toBe(
      false,
    );
  });

  it('promote by clearing the pause: none left, or the controller already moved past the step', () => {
    expect(showsOwnChange(promote, live(), live({ status: { pauseConditions: null } }))).toBe(true);
    expect(showsOwnChange(promote, live(), live({ status: { currentStepIndex: 3 } }))).toBe(true);
    expect(showsOwnChange(promote, live(), live())).toBe(false);
  });

  it('promote by advancing the step index: at or past the index we wrote', () => {
    expect(advance.action).toBe('promote');
    expect(showsOwnChange(advance, analysisStep, live({ status: { currentStepIndex: 3 } }))).toBe(true);
    expect(showsOwnChange(advance, analysisStep, analysisStep)).toBe(false);
  });

  it('nothing was written for "none"', () => {
    const none = decide(verdictDetail({ verdict: 'Inconclusive' }), live(), ABORT_ONLY);
    expect(showsOwnChange(none, live(), live({ status: { abort: true } }))).toBe(false);
  });
});
