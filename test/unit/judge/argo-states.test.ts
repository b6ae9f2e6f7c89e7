import { describe, expect, it } from 'vitest';
import { Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type {
  Observation,
  ObservedDestination,
  ObservedTarget,
  TargetState,
} from '../../../lambdas/core/observation.js';

/**
 * Healthy states Argo reaches on its own must never be judged Failed, and states it never sets
 * must: experiments, dynamicStableScale transitions, unmanaged subsets, a canary carrying weight
 * without pods, a rollout scaled to 0.
 */

const CANARY = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkoutc-1/aaa';
const STABLE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-2/bbb';
const EXPERIMENT_A =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-3/ccc';
const EXPERIMENT_B =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-4/ddd';

const expected = (overrides: Partial<Expected>): Expected =>
  Expected.parse({ canaryWeight: 20, stableWeight: 80, derivation: 'test', ...overrides });

const targets = (state: TargetState, count: number): ObservedTarget[] =>
  Array.from({ length: count }, (_, i) => ({ id: `10.0.${state.length}.${i}`, port: 8080, state }));

function observation(
  destinations: ObservedDestination[],
  backends: { canary?: ObservedTarget[]; stable?: ObservedTarget[] } = {},
): Observation {
  return {
    router: 'alb',
    routes: [{ resource: 'rule-1', description: 'listener rule priority 1', destinations }],
    backends: [
      { resource: CANARY, role: 'canary', targets: backends.canary ?? targets('healthy', 2) },
      { resource: STABLE, role: 'stable', targets: backends.stable ?? targets('healthy', 8) },
    ],
    problems: [],
  };
}

const canary = (weight: number): ObservedDestination => ({ resource: CANARY, role: 'canary', weight });
const stable = (weight: number): ObservedDestination => ({ resource: STABLE, role: 'stable', weight });
const other = (resource: string, weight: number, service?: string): ObservedDestination => ({
  resource,
  role: 'unknown',
  weight,
  ...(service ? { service } : {}),
});

describe('experiments', () => {
  const running = expected({
    canaryWeight: 20,
    stableWeight: 65,
    additional: [{ weight: 10 }, { weight: 5, service: 'checkout-candidate' }],
  });

  const withExperimentHealth = (experimentTargets: ObservedTarget[] | undefined): Observation => {
    const base = observation([canary(20), other(EXPERIMENT_A, 10), other(EXPERIMENT_B, 5), stable(65)]);
    return {
      ...base,
      backends: [
        ...base.backends,
        ...(experimentTargets
          ? [{ resource: EXPERIMENT_A, role: 'experiment' as const, targets: experimentTargets }]
          : []),
        { resource: EXPERIMENT_B, role: 'experiment' as const, targets: targets('healthy', 1) },
      ],
    };
  };

  it('the experiment’s target groups carrying their weights are expected, not unexpected', () => {
    const result = judge(running, withExperimentHealth(targets('healthy', 1)));
    expect(result).toEqual({ verdict: 'Succeeded', findings: [], final: true, complete: true });
  });

  it('an experiment target group that carries weight must serve it: unhealthy or empty is Failed', () => {
    const unhealthy = judge(running, withExperimentHealth(targets('unhealthy', 1)));
    expect(unhealthy.verdict).toBe('Failed');
    expect(unhealthy.findings.map((finding) => [finding.code, finding.resource])).toEqual([
      ['InsufficientHealthyTargets', EXPERIMENT_A],
      ['UnhealthyTargets', EXPERIMENT_A],
    ]);
    const empty = judge(running, withExperimentHealth([]));
    expect(empty.findings.map((finding) => finding.code)).toEqual(['InsufficientHealthyTargets']);
  });

  it('an experiment target group whose health was not read is not seen: Inconclusive', () => {
    const unread = judge(running, withExperimentHealth(undefined));
    expect(unread).toMatchObject({ verdict: 'Inconclusive', complete: false });
    expect(unread.findings.map((finding) => [finding.code, finding.resource])).toEqual([
      ['ObservationError', EXPERIMENT_A],
    ]);
  });

  it('a Service name that contradicts the experiment’s is not a match', () => {
    const result = judge(
      running,
      observation([
        canary(20),
        other(EXPERIMENT_A, 10, 'someone-else'),
        other(EXPERIMENT_B, 5, 'other'),
        stable(65),
      ]),
    );
    expect(result.findings.map((finding) => finding.code)).toEqual([
      'UnexpectedTargetGroup',
      'UnexpectedTargetGroup',
      'WeightMismatch',
    ]);
  });

  it('a wrong experiment weight is a mismatch', () => {
    const result = judge(
      running,
      observation([canary(20), other(EXPERIMENT_A, 15), other(EXPERIMENT_B, 5), stable(60)]),
    );
    expect(result.verdict).toBe('Failed');
    expect(result.findings.map((finding) => finding.code)).toContain('WeightMismatch');
  });

  it('a target group no experiment explains is still unexpected', () => {
    const result = judge(expected({}), observation([canary(20), other(EXPERIMENT_A, 10), stable(70)]));
    expect(result.findings.map((finding) => finding.code)).toEqual([
      'UnexpectedTargetGroup',
      'WeightMismatch',
    ]);
  });

  it('a leftover experiment target group at weight 0 is ignored', () => {
    expect(judge(expected({}), observation([canary(20), other(EXPERIMENT_A, 0), stable(80)])).verdict).toBe(
      'Succeeded',
    );
  });

  it('the experiment starting after the step is a state the rollout moved on to', () => {
    const result = judge(
      expected({
        successors: [
          {
            canaryWeight: 20,
            stableWeight: 70,
            additional: [{ weight: 10 }],
            reason: 'experiment at step 1 running',
          },
        ],
      }),
      observation([canary(20), other(EXPERIMENT_A, 10), stable(70)]),
    );
    expect(result.verdict).toBe('Inconclusive');
    expect(result.findings.map((finding) => finding.code)).toEqual(['RolloutMovedOn']);
  });
});

describe('dynamicStableScale transitions', () => {
  const aborting = expected({
    canaryWeight: 0,
    stableWeight: 100,
    transition: { minCanaryWeight: 0, maxCanaryWeight: 40, reason: 'aborted with dynamicStableScale' },
  });

  it.each([
    [40, 60],
    [20, 80],
    [0, 100],
  ])('canary %i / stable %i on the way down is expected', (canaryWeight, stableWeight) => {
    expect(judge(aborting, observation([canary(canaryWeight), stable(stableWeight)])).verdict).toBe(
      'Succeeded',
    );
  });

  it('above the weight Argo last applied is a mismatch', () => {
    const result = judge(aborting, observation([canary(60), stable(40)]));
    expect(result.verdict).toBe('Failed');
    expect(result.findings[0]?.message).toMatch(/or canary 0–40 on the way there/);
  });

  it('a canary still carrying weight during the transition needs healthy targets', () => {
    const result = judge(
      aborting,
      observation([canary(20), stable(80)], { canary: targets('unhealthy', 2) }),
    );
    expect(result.verdict).toBe('Failed');
    expect(result.findings.map((finding) => finding.code)).toEqual([
      'InsufficientHealthyTargets',
      'UnhealthyTargets',
    ]);
  });
});

describe('unmanaged destinations (Istio additionalSubsetNames)', () => {
  it('keep their weight out of the stable share', () => {
    const result = judge(
      expected({}),
      observation([
        canary(20),
        stable(60),
        { resource: 'checkout subset experiment', role: 'unmanaged', weight: 20 },
      ]),
    );
    expect(result.verdict).toBe('Succeeded');
  });

  it('do not hide a wrong canary weight', () => {
    const result = judge(
      expected({}),
      observation([
        canary(30),
        stable(50),
        { resource: 'checkout subset experiment', role: 'unmanaged', weight: 20 },
      ]),
    );
    expect(result.verdict).toBe('Failed');
  });
});

describe('a successor explains the split only if it can be served', () => {
  // A new revision: Argo resets the canary to 0 before raising it again once new pods are available.
  const newRevision = expected({
    canaryWeight: 0,
    stableWeight: 100,
    minHealthyCanaryTargets: 0,
    successors: [{ canaryWeight: 20, stableWeight: 80, reason: 'setWeight at step 0' }],
  });

  it('weight still on a canary target group without healthy targets is Failed, not RolloutMovedOn', () => {
    const result = judge(newRevision, observation([canary(20), stable(80)], { canary: [] }));
    expect(result.verdict).toBe('Failed');
    expect(result.findings.map((finding) => finding.code)).toEqual([
      'WeightMismatch',
      'InsufficientHealthyTargets',
    ]);
  });

  it('with the new canary pods healthy, the rollout moved on', () => {
    const result = judge(newRevision, observation([canary(20), stable(80)]));
    expect(result.findings.map((finding) => finding.code)).toEqual(['RolloutMovedOn']);
  });
});

describe('a rollout scaled to 0 replicas', () => {
  it('needs no healthy targets: empty target groups at the expected weights are Succeeded', () => {
    const result = judge(
      expected({ replicas: 0, minHealthyCanaryTargets: 0, minHealthyStableTargets: 0 }),
      observation([canary(20), stable(80)], { canary: [], stable: [] }),
    );
    expect(result.verdict).toBe('Succeeded');
  });

  it('with replicas, the same empty target groups are Failed', () => {
    const result = judge(
      expected({ replicas: 10 }),
      observation([canary(20), stable(80)], { canary: [], stable: [] }),
    );
    expect(result.verdict).toBe('Failed');
  });
});

describe('maxTrafficWeight of any size', () => {
  it('10000: 2500 / 7500 on the route is a quarter', () => {
    expect(
      judge(
        expected({ canaryWeight: 2500, stableWeight: 7500, maxWeight: 10000 }),
        observation([canary(25), stable(75)]),
      ).verdict,
    ).toBe('Succeeded');
  });
});
