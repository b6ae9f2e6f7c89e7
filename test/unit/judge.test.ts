import { describe, expect, it } from 'vitest';
import { Expected } from '../../lambdas/core/contracts/rollout-event.js';
import type { Finding, FindingCode } from '../../lambdas/core/contracts/verdict-event.js';
import { judge } from '../../lambdas/core/judge.js';
import type { Observation, ObservedTarget, TargetState } from '../../lambdas/core/observation.js';

const CANARY = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkoutc-1/aaa';
const STABLE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-2/bbb';
const OTHER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-other-3/ccc';
const RULE_HTTP = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/lb/1/http/1';
const RULE_HTTPS = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/lb/1/https/2';

const expected = (overrides: Partial<Expected> = {}): Expected =>
  Expected.parse({ canaryWeight: 20, stableWeight: 80, derivation: 'setWeight 20 at step 0', ...overrides });

const targets = (state: TargetState, count: number, reason?: string): ObservedTarget[] =>
  Array.from({ length: count }, (_, i) => ({ id: `10.0.${state.length}.${i}`, port: 8080, state, reason }));

interface Shape {
  /** One entry per rule: [canary weight, stable weight, extra destinations]. */
  rules?: Array<[number | null, number | null, Array<{ resource: string; weight: number }>?]>;
  canaryTargets?: ObservedTarget[];
  stableTargets?: ObservedTarget[];
  problems?: Finding[];
}

function observation({
  rules = [[20, 80]],
  canaryTargets = targets('healthy', 2),
  stableTargets = targets('healthy', 8),
  problems = [],
}: Shape = {}): Observation {
  return {
    router: 'alb',
    region: 'eu-west-1',
    routes: rules.map(([canary, stable, extra = []], index) => ({
      resource: index === 0 ? RULE_HTTP : `${RULE_HTTPS}${index}`,
      description: `listener rule priority ${index + 1} on HTTP:80 of k8s-shop-checkout-abc`,
      destinations: [
        ...(canary === null ? [] : [{ resource: CANARY, role: 'canary' as const, weight: canary }]),
        ...(stable === null ? [] : [{ resource: STABLE, role: 'stable' as const, weight: stable }]),
        ...extra.map((destination) => ({ ...destination, role: 'unknown' as const })),
      ],
    })),
    backends: [
      { resource: CANARY, role: 'canary', targets: canaryTargets },
      { resource: STABLE, role: 'stable', targets: stableTargets },
    ],
    problems,
  };
}

const problem = (code: FindingCode): Finding => ({
  code,
  resource: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/lb/1',
  expected: 'an answer',
  observed: code,
  message: code,
});

interface Case {
  name: string;
  expected?: Partial<Expected>;
  observation: Shape;
  verdict: 'Succeeded' | 'Failed' | 'Inconclusive';
  codes: FindingCode[];
  final?: boolean;
}

const cases: Case[] = [
  // weights
  { name: 'exact weights, healthy targets', observation: {}, verdict: 'Succeeded', codes: [] },
  {
    name: 'canary weight not applied (still 0)',
    observation: { rules: [[0, 100]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'canary over-weighted',
    observation: { rules: [[50, 50]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'stable not reduced (20/100)',
    observation: { rules: [[20, 100]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'scaled weights 200/800 are the same split',
    observation: { rules: [[200, 800]] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'ALB max weights 999 scale exactly only when the ratio is exact',
    observation: { rules: [[199, 800]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'both rules right (HTTP and HTTPS)',
    observation: {
      rules: [
        [20, 80],
        [20, 80],
      ],
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'one of two listeners lags',
    observation: {
      rules: [
        [20, 80],
        [0, 100],
      ],
    },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'every destination at weight 0',
    observation: { rules: [[0, 0]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'maxTrafficWeight 1000: 200/800 expected',
    expected: { canaryWeight: 200, stableWeight: 800, maxWeight: 1000 },
    observation: { rules: [[200, 800]] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'maxTrafficWeight 1000 read as percent (20/80) is the same split',
    expected: { canaryWeight: 200, stableWeight: 800, maxWeight: 1000 },
    observation: { rules: [[20, 80]] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'final step 100% canary',
    expected: { canaryWeight: 100, stableWeight: 0, minHealthyStableTargets: 0 },
    observation: { rules: [[100, 0]], stableTargets: [] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'final step 100% canary but stable still 50',
    expected: { canaryWeight: 100, stableWeight: 0 },
    observation: { rules: [[100, 100]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  // abort
  {
    name: 'abort: back to 100% stable',
    expected: { canaryWeight: 0, stableWeight: 100, minHealthyCanaryTargets: 0 },
    observation: { rules: [[0, 100]], canaryTargets: [] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'abort: canary still carries traffic',
    expected: { canaryWeight: 0, stableWeight: 100 },
    observation: { rules: [[20, 80]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'abort: unhealthy canary targets do not matter at weight 0',
    expected: { canaryWeight: 0, stableWeight: 100 },
    observation: { rules: [[0, 100]], canaryTargets: targets('unhealthy', 3) },
    verdict: 'Succeeded',
    codes: [],
  },
  // target groups in the forward action
  {
    name: 'canary target group missing from the action',
    observation: { rules: [[null, 100]] },
    verdict: 'Failed',
    codes: ['TargetGroupMissing', 'WeightMismatch'],
  },
  {
    name: 'stable target group missing from the action',
    observation: { rules: [[100, null]] },
    verdict: 'Failed',
    codes: ['TargetGroupMissing', 'WeightMismatch'],
  },
  {
    name: 'canary absent is fine at weight 0',
    expected: { canaryWeight: 0, stableWeight: 100 },
    observation: { rules: [[null, 100]] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'an extra target group carries weight',
    observation: { rules: [[20, 70, [{ resource: OTHER, weight: 10 }]]] },
    verdict: 'Failed',
    codes: ['UnexpectedTargetGroup', 'WeightMismatch'],
  },
  {
    name: 'an extra target group at weight 0 is harmless',
    observation: { rules: [[20, 80, [{ resource: OTHER, weight: 0 }]]] },
    verdict: 'Succeeded',
    codes: [],
  },
  // target health
  {
    name: 'canary carries weight with no targets',
    observation: { canaryTargets: [] },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'canary targets still initial',
    observation: { canaryTargets: targets('initial', 2, 'Elb.RegistrationInProgress') },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'canary has fewer healthy targets than the step needs',
    expected: { minHealthyCanaryTargets: 3 },
    observation: { canaryTargets: targets('healthy', 2) },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'one unhealthy canary target among healthy ones',
    observation: {
      canaryTargets: [...targets('healthy', 2), ...targets('unhealthy', 1, 'Target.FailedHealthChecks')],
    },
    verdict: 'Failed',
    codes: ['UnhealthyTargets'],
  },
  {
    name: 'all canary targets unhealthy',
    observation: { canaryTargets: targets('unhealthy', 2, 'Target.ResponseCodeMismatch') },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets', 'UnhealthyTargets'],
  },
  {
    name: 'draining targets are neither healthy nor a failure',
    observation: { canaryTargets: [...targets('healthy', 2), ...targets('draining', 2)] },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'only draining canary targets',
    observation: { canaryTargets: targets('draining', 2, 'Target.DeregistrationInProgress') },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'unused canary targets do not count as healthy',
    observation: { canaryTargets: targets('unused', 2, 'Target.NotInUse') },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'health checks disabled (unavailable) still routable',
    observation: { canaryTargets: targets('unavailable', 2, 'Target.HealthCheckDisabled') },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'stable side unhealthy while carrying weight',
    observation: { stableTargets: [...targets('healthy', 7), ...targets('unhealthy', 1)] },
    verdict: 'Failed',
    codes: ['UnhealthyTargets'],
  },
  {
    name: 'stable side empty while carrying weight',
    observation: { stableTargets: [] },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'stable side empty at 100% canary is fine',
    expected: { canaryWeight: 100, stableWeight: 0 },
    observation: { rules: [[100, 0]], stableTargets: [] },
    verdict: 'Succeeded',
    codes: [],
  },
  // blue-green: stable = active service, canary = preview service
  {
    name: 'blue-green: active carries everything, preview 0',
    expected: { canaryWeight: 0, stableWeight: 100, minHealthyStableTargets: 4 },
    observation: {
      rules: [[0, 100]],
      stableTargets: targets('healthy', 4),
      canaryTargets: targets('healthy', 4),
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'blue-green: switched before the new pods are healthy',
    expected: { canaryWeight: 0, stableWeight: 100, minHealthyStableTargets: 4 },
    observation: {
      rules: [[null, 100]],
      stableTargets: [...targets('initial', 4), ...targets('draining', 4)],
    },
    verdict: 'Failed',
    codes: ['InsufficientHealthyTargets'],
  },
  {
    name: 'blue-green: preview receives production traffic',
    expected: { canaryWeight: 0, stableWeight: 100 },
    observation: { rules: [[100, 0]] },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  // could not observe
  {
    name: 'access denied is final and Inconclusive',
    observation: { rules: [], problems: [problem('AccessDenied')] },
    verdict: 'Inconclusive',
    codes: ['AccessDenied'],
    final: true,
  },
  {
    name: 'throttling is Inconclusive, not final',
    observation: { rules: [], problems: [problem('Throttled')] },
    verdict: 'Inconclusive',
    codes: ['Throttled'],
    final: false,
  },
  {
    name: 'not found is Inconclusive',
    observation: { rules: [], problems: [problem('ResourceNotFound')] },
    verdict: 'Inconclusive',
    codes: ['ResourceNotFound'],
    final: false,
  },
  {
    name: 'a definite mismatch outweighs a partial observation',
    observation: { rules: [[0, 100]], problems: [problem('ResourceNotFound')] },
    verdict: 'Failed',
    codes: ['ResourceNotFound', 'WeightMismatch'],
  },
  {
    name: 'no rule forwards to the rollout',
    observation: { rules: [], problems: [problem('NoRuleForwardsToRollout')] },
    verdict: 'Failed',
    codes: ['NoRuleForwardsToRollout'],
  },
  // moved on
  {
    name: 'the next setWeight means the rollout moved on',
    expected: { successors: [{ canaryWeight: 50, stableWeight: 50, reason: 'setWeight at step 2' }] },
    observation: { rules: [[50, 50]] },
    verdict: 'Inconclusive',
    codes: ['RolloutMovedOn'],
    final: true,
  },
  {
    name: 'moved on is judged over every rule',
    expected: { successors: [{ canaryWeight: 50, stableWeight: 50, reason: 'setWeight at step 2' }] },
    observation: {
      rules: [
        [50, 50],
        [0, 100],
      ],
    },
    verdict: 'Failed',
    codes: ['WeightMismatch', 'WeightMismatch'],
  },
  {
    name: 'a full promotion and a never-applied step look alike: ambiguous',
    expected: { successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }] },
    observation: { rules: [[0, 100]] },
    verdict: 'Inconclusive',
    codes: ['AmbiguousState'],
    final: false,
  },
  {
    name: 'ambiguity does not hide unhealthy stable targets',
    expected: { successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }] },
    observation: { rules: [[0, 100]], stableTargets: targets('unhealthy', 2) },
    verdict: 'Failed',
    codes: ['WeightMismatch', 'InsufficientHealthyTargets', 'UnhealthyTargets'],
  },
  {
    name: 'the expected state wins over a successor with the same weights',
    expected: { successors: [{ canaryWeight: 20, stableWeight: 80, reason: 'setWeight at step 2' }] },
    observation: {},
    verdict: 'Succeeded',
    codes: [],
  },
];

describe('judge', () => {
  it.each(cases)('$name → $verdict', ({ expected: overrides, observation: shape, verdict, codes, final }) => {
    const judgement = judge(expected(overrides), observation(shape));
    expect(judgement.verdict).toBe(verdict);
    expect(judgement.findings.map((finding) => finding.code)).toEqual(codes);
    if (final !== undefined) expect(judgement.final).toBe(final);
  });

  it('has at least 30 table cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('names where, expected and observed in a weight finding', () => {
    const [finding] = judge(expected(), observation({ rules: [[0, 100]] })).findings;
    expect(finding).toMatchObject({
      code: 'WeightMismatch',
      resource: RULE_HTTP,
      expected: 'canary 20 / stable 80',
      observed: 'canary 0 / stable 100',
      layer: 'load-balancer',
    });
    expect(finding?.message).toContain('listener rule priority 1 on HTTP:80');
  });

  it.each([
    { applied: 20, observed: 0, layer: 'load-balancer' },
    { applied: 0, observed: 0, layer: 'argo-controller' },
    { applied: 10, observed: 0, layer: 'both' },
  ] as const)(
    'says which layer diverges (Argo applied $applied, ALB $observed) → $layer',
    ({ applied, observed, layer }) => {
      const [finding] = judge(
        expected({ controllerApplied: { canaryWeight: applied, stableWeight: 100 - applied } }),
        observation({ rules: [[observed, 100 - observed]] }),
      ).findings;
      expect(finding?.layer).toBe(layer);
    },
  );

  it('names unhealthy targets with their reason', () => {
    const [finding] = judge(
      expected(),
      observation({
        canaryTargets: [
          ...targets('healthy', 1),
          { id: '10.0.0.9', port: 8080, state: 'unhealthy', reason: 'Target.Timeout' },
        ],
      }),
    ).findings;
    expect(finding?.message).toContain('10.0.0.9:8080 (Target.Timeout)');
  });

  it('is pure: the same input gives the same judgement', () => {
    const input = observation({ rules: [[0, 100]] });
    expect(judge(expected(), input)).toEqual(judge(expected(), input));
  });
});
