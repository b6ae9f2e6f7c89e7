import { describe, expect, it } from 'vitest';
import { Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import type { Finding, FindingCode } from '../../../lambdas/core/contracts/verdict-event.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type { Observation, ObservedTarget, TargetState } from '../../../lambdas/core/observation.js';

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
    name: 'a partial observation is Inconclusive, its definite mismatch kept as evidence',
    observation: { rules: [[0, 100]], problems: [problem('ResourceNotFound')] },
    verdict: 'Inconclusive',
    codes: ['ResourceNotFound', 'WeightMismatch'],
    final: false,
  },
  {
    name: 'a malformed answer makes an otherwise failing observation Inconclusive',
    observation: { rules: [[20, 80]], canaryTargets: [], problems: [problem('MalformedResponse')] },
    verdict: 'Inconclusive',
    codes: ['MalformedResponse', 'InsufficientHealthyTargets'],
    final: false,
  },
  {
    name: 'a partial observation never succeeds, even when all it saw is right',
    observation: { problems: [problem('Throttled')] },
    verdict: 'Inconclusive',
    codes: ['Throttled'],
  },
  {
    name: 'access denied stays final next to a definite finding',
    observation: { rules: [[0, 100]], problems: [problem('AccessDenied')] },
    verdict: 'Inconclusive',
    codes: ['AccessDenied', 'WeightMismatch'],
    final: true,
  },
  {
    name: 'no route observed and no reason given is never Succeeded',
    observation: { rules: [] },
    verdict: 'Inconclusive',
    codes: ['ObservationError'],
    final: false,
  },
  {
    name: 'a partial observation showing a successor is not yet moved on',
    expected: { successors: [{ canaryWeight: 50, stableWeight: 50, reason: 'setWeight at step 2' }] },
    observation: { rules: [[50, 50]], problems: [problem('Throttled')] },
    verdict: 'Inconclusive',
    codes: ['Throttled', 'RolloutMovedOn'],
    final: false,
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

  it('a weighted target group whose health was not read is a gap, not a success', () => {
    const partial = observation();
    partial.backends = partial.backends.filter((backend) => backend.role === 'stable');
    const judgement = judge(expected(), partial);
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', complete: false });
    expect(judgement.findings).toMatchObject([{ code: 'ObservationError', resource: CANARY }]);
  });

  it('a routes-only look with the right weights is a gap, never a success', () => {
    const routesOnly: Observation = { ...observation(), backends: [], routesOnly: true };
    const judgement = judge(expected(), routesOnly);
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', complete: false, final: false });
    expect(judgement.findings).toMatchObject([{ code: 'ObservationError', observed: 'not read' }]);
  });

  it('a routes-only look with the wrong weights shows the mismatch', () => {
    const routesOnly: Observation = { ...observation({ rules: [[0, 100]] }), backends: [], routesOnly: true };
    const judgement = judge(expected(), routesOnly);
    expect(judgement).toMatchObject({ verdict: 'Failed', complete: true });
    expect(judgement.findings.map((finding) => finding.code)).toEqual(['WeightMismatch']);
  });

  it('says whether the observation was complete', () => {
    expect(judge(expected(), observation()).complete).toBe(true);
    expect(judge(expected(), observation({ rules: [[0, 100]] })).complete).toBe(true);
    expect(judge(expected(), observation({ problems: [problem('Throttled')] })).complete).toBe(false);
  });

  it('is pure: the same input gives the same judgement', () => {
    const input = observation({ rules: [[0, 100]] });
    expect(judge(expected(), input)).toEqual(judge(expected(), input));
  });
});

describe('judge: mesh and gateway routers', () => {
  const meshRoute = (canary: number, stable: number, extra: Partial<Observation['routes'][number]> = {}) => ({
    resource: 'virtualservice/bookinfo/reviews#primary',
    description: 'HTTP route "primary" of VirtualService bookinfo/reviews',
    destinations: [
      { resource: 'reviews-canary', role: 'canary' as const, weight: canary },
      { resource: 'reviews-stable', role: 'stable' as const, weight: stable },
    ],
    ...extra,
  });
  const mesh = (extra: Partial<Observation>): Observation => ({
    router: 'istio',
    routes: [meshRoute(20, 80)],
    backends: [],
    problems: [],
    ...extra,
  });
  const bypass = (readyPods: { total: number; canary?: number } | undefined) => ({
    resources: ['virtualservice/bookinfo/reviews'],
    gateways: ['istio-system/public'],
    countedFrom: ['service/bookinfo/reviews'],
    ...(readyPods ? { readyPods } : {}),
  });
  const pair = (baseService: string | undefined, canary?: { service?: string; weight?: number }) => ({
    resource: 'mapping/shop/echo',
    canaryResource: 'mapping/shop/echo-canary',
    stableService: 'echo-stable',
    canaryService: 'echo-canary',
    ...(baseService === undefined ? {} : { baseService }),
    ...(canary ? { canary } : {}),
  });
  const codes = (overrides: Partial<Expected>, observed: Observation) =>
    judge(expected(overrides), observed).findings.map((finding) => finding.code);

  it.each([
    { name: 'pods split like the weights', pods: { total: 5, canary: 1 }, at: {}, codes: [] },
    { name: 'pods split unlike the weights', pods: { total: 5, canary: 2 }, at: {}, codes: ['MeshBypass'] },
    { name: 'no ready pods: nothing reachable', pods: { total: 0, canary: 0 }, at: {}, codes: [] },
    { name: 'pods not counted (could not read)', pods: undefined, at: {}, codes: [] },
    { name: 'sides unknown, mid-rollout', pods: { total: 4 }, at: {}, codes: ['MeshBypass'] },
    {
      name: 'sides unknown at canary 0',
      pods: { total: 4 },
      at: { canaryWeight: 0, stableWeight: 100 },
      codes: [],
      routes: [meshRoute(0, 100)],
    },
  ])('mesh bypass: $name → $codes', ({ pods, at, codes: wanted, routes }) => {
    expect(codes(at, mesh({ meshBypass: bypass(pods), ...(routes ? { routes } : {}) }))).toEqual(wanted);
  });

  it('route selection: missing names, ambiguity, nothing to verify', () => {
    const selection = (requested: string[], missing: string[], candidates: string[]) => ({
      resource: 'virtualservice/bookinfo/reviews',
      protocol: 'http' as const,
      requested,
      missing,
      available: ['"primary"', '"secondary"'],
      candidates,
    });
    expect(codes({}, mesh({ routeSelections: [selection(['"primary"'], [], [])] }))).toEqual([]);
    expect(codes({}, mesh({ routeSelections: [selection(['"x"', '"y"'], ['"x"', '"y"'], [])] }))).toEqual([
      'RouteNotFound',
      'RouteNotFound',
    ]);
    expect(
      codes({}, mesh({ routes: [], routeSelections: [selection([], [], ['"primary"', '"secondary"'])] })),
    ).toEqual(['AmbiguousRoutes']);
    expect(codes({}, mesh({ routes: [], routeSelections: [selection([], [], [])] }))).toEqual([
      'RouteNotFound',
    ]);
  });

  it('the #3884 hint goes only with a named route inferred as the only one', () => {
    const message = (route: Observation['routes'][number]) =>
      judge(expected(), mesh({ routes: [route] })).findings[0]?.message ?? '';
    expect(message(meshRoute(0, 100, { selectedBy: 'only-route', routeName: 'primary' }))).toContain('#3884');
    expect(message(meshRoute(0, 100, { selectedBy: 'only-route' }))).not.toContain('#3884');
    expect(message(meshRoute(0, 100, { selectedBy: 'name', routeName: 'primary' }))).not.toContain('#3884');
  });

  it('DestinationRule subsets: presence while carrying weight, hashes mid-rollout only', () => {
    const subset = (role: 'canary' | 'stable', present: boolean, hash?: string, wanted?: string) => ({
      resource: `destinationrule/bookinfo/reviews#${role}`,
      role,
      present,
      ...(hash ? { podTemplateHash: hash } : {}),
      ...(wanted ? { expectedPodTemplateHash: wanted } : {}),
    });
    const promoted = { canaryWeight: 0, stableWeight: 100 };
    expect(
      codes(
        {},
        mesh({ subsets: [subset('canary', true, 'new', 'new'), subset('stable', true, 'old', 'old')] }),
      ),
    ).toEqual([]);
    expect(codes({}, mesh({ subsets: [subset('canary', true, 'old', 'new')] }))).toEqual([
      'DestinationRuleSubsetMismatch',
    ]);
    expect(codes({}, mesh({ subsets: [subset('stable', true, 'new', 'old')] }))).toEqual([
      'DestinationRuleSubsetMismatch',
    ]);
    // After promotion the snapshot's stable hash is the previous one: not judged at the ends.
    expect(
      codes(promoted, mesh({ routes: [meshRoute(0, 100)], subsets: [subset('stable', true, 'new', 'old')] })),
    ).toEqual([]);
    expect(
      codes(promoted, mesh({ routes: [meshRoute(0, 100)], subsets: [subset('canary', false)] })),
    ).toEqual([]);
    expect(
      codes(promoted, mesh({ routes: [meshRoute(0, 100)], subsets: [subset('stable', false)] })),
    ).toEqual(['DestinationRuleSubsetMismatch']);
    expect(codes({}, mesh({ subsets: [subset('canary', true, undefined, 'new')] }))).toEqual([
      'DestinationRuleSubsetMismatch',
    ]);
  });

  it('Ambassador pairs: service derivation and the canary Mapping at weight 0', () => {
    const ambassador = (mappings: Observation['mappings'], canary = 20) =>
      mesh({ router: 'ambassador', routes: [meshRoute(canary, 100 - canary)], mappings });
    expect(
      codes(
        {},
        ambassador([
          pair('https://echo-stable.shop:8443', { service: 'https://echo-canary.shop:8443', weight: 20 }),
        ]),
      ),
    ).toEqual([]);
    expect(
      codes(
        {},
        ambassador([
          pair('echo-stable.shop.svc.cluster.local:80/api', {
            service: 'echo-canary.shop.svc.cluster.local:80/api',
            weight: 20,
          }),
        ]),
      ),
    ).toEqual([]);
    expect(
      codes({}, ambassador([pair('http://echo-stable', { service: 'echo-canary', weight: 20 })])),
    ).toEqual(['CanaryMappingServiceMismatch']);
    // Without the stable name there is no right canary service: one finding, not two.
    expect(codes({}, ambassador([pair('echo:80', { service: 'echo-canary:80', weight: 20 })]))).toEqual([
      'StableServiceNotInMapping',
    ]);
    expect(codes({}, ambassador([pair(undefined, { service: 'echo-canary', weight: 20 })]))).toEqual([
      'StableServiceNotInMapping',
    ]);
    expect(codes({ canaryWeight: 0, stableWeight: 100 }, ambassador([pair('echo-stable')], 0))).toEqual([]);
    expect(codes({}, ambassador([pair('echo-stable')], 0))).toEqual([
      'WeightMismatch',
      'CanaryMappingMissing',
    ]);
  });
});
