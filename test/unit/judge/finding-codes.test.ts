import { describe, expect, it } from 'vitest';
import { Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import {
  FINDING_CODES,
  type Finding,
  type FindingCode,
  UNOBSERVABLE_FINDING_CODES,
} from '../../../lambdas/core/contracts/verdict-event.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type { Observation, ObservedRoute, ObservedTarget } from '../../../lambdas/core/observation.js';

/**
 * Every finding code the contract names, produced by the judge from a minimal observation: a code
 * nobody can produce, or one whose verdict class drifts (a definite finding must fail a complete
 * observation; an unobservable one must never), fails here. The routers' own problems (access,
 * throttling, malformed answers…) reach the judge as observation problems and pass through.
 */

const CANARY = 'tg/canary';
const STABLE = 'tg/stable';
const healthy = (count: number, port = 8080): ObservedTarget[] =>
  Array.from({ length: count }, (_, i) => ({ id: `10.0.0.${i + 1}`, port, state: 'healthy' }));

const expected = (overrides: Partial<Expected> = {}): Expected =>
  Expected.parse({ canaryWeight: 20, stableWeight: 80, derivation: 'test', ...overrides });

const route = (canary: number | null, stable: number | null, extra: ObservedRoute['destinations'] = []) => ({
  resource: 'rule',
  description: 'listener rule',
  destinations: [
    ...(canary === null ? [] : [{ resource: CANARY, role: 'canary' as const, weight: canary }]),
    ...(stable === null ? [] : [{ resource: STABLE, role: 'stable' as const, weight: stable }]),
    ...extra,
  ],
});

function alb(overrides: Partial<Observation> = {}, canaryTargets = healthy(2)): Observation {
  return {
    router: 'alb',
    routes: [route(20, 80)],
    backends: [
      { resource: CANARY, role: 'canary', targets: canaryTargets },
      { resource: STABLE, role: 'stable', targets: healthy(8) },
    ],
    problems: [],
    ...overrides,
  };
}

const problem = (code: FindingCode): Finding => ({
  code,
  resource: 'somewhere',
  expected: 'an answer',
  observed: code,
  message: code,
});

const mesh = (overrides: Partial<Observation>): Observation => ({
  router: 'istio',
  routes: [route(20, 80)],
  backends: [],
  problems: [],
  ...overrides,
});

const mappingPair = {
  resource: 'mapping/shop/echo',
  canaryResource: 'mapping/shop/echo-canary',
  stableService: 'echo',
  canaryService: 'echo-canary',
  baseService: 'echo:80',
};

const CASES: Record<FindingCode, { expected?: Partial<Expected>; observation: Observation }> = {
  WeightMismatch: { observation: alb({ routes: [route(0, 100)] }) },
  TargetGroupMissing: { observation: alb({ routes: [route(null, 100)] }) },
  UnexpectedTargetGroup: {
    observation: alb({ routes: [route(20, 70, [{ resource: 'tg/other', role: 'unknown', weight: 10 }])] }),
  },
  NoRuleForwardsToRollout: {
    observation: alb({ routes: [], problems: [{ ...problem('NoRuleForwardsToRollout') }] }),
  },
  InsufficientHealthyTargets: { observation: alb({}, []) },
  UnhealthyTargets: {
    observation: alb({}, [
      ...healthy(2),
      { id: '10.0.0.9', port: 8080, state: 'unhealthy', reason: 'Target.Timeout' },
    ]),
  },
  TargetNotRegistered: {
    observation: alb({
      endpoints: [
        {
          resource: 'service/shop/checkout-canary',
          role: 'canary',
          ready: [
            { address: '10.0.0.1', port: 8080 },
            { address: '10.0.0.2', port: 8080 },
            { address: '10.0.0.3', port: 8080 },
          ],
          notReady: [],
        },
      ],
    }),
  },
  StaleTargetRegistration: {
    observation: alb({
      endpoints: [
        {
          resource: 'service/shop/checkout-canary',
          role: 'canary',
          ready: [{ address: '10.0.0.1', port: 8080 }],
          notReady: [],
        },
      ],
    }),
  },
  RouteNotFound: {
    observation: mesh({
      routeSelections: [
        {
          resource: 'virtualservice/shop/vs',
          protocol: 'http',
          requested: ['"primary"'],
          missing: ['"primary"'],
          available: [],
          candidates: [],
        },
      ],
    }),
  },
  AmbiguousRoutes: {
    observation: mesh({
      routes: [],
      routeSelections: [
        {
          resource: 'virtualservice/shop/vs',
          protocol: 'http',
          requested: [],
          missing: [],
          available: ['"a"', '"b"'],
          candidates: ['"a"', '"b"'],
        },
      ],
    }),
  },
  MeshBypass: {
    observation: mesh({
      meshBypass: {
        resources: ['virtualservice/shop/vs'],
        gateways: ['istio-system/gw'],
        readyPods: { total: 5, canary: 3 },
        countedFrom: ['service/shop/a', 'service/shop/b'],
      },
    }),
  },
  DestinationRuleSubsetMismatch: {
    observation: mesh({
      subsets: [{ resource: 'destinationrule/shop/dr#canary', role: 'canary', present: false }],
    }),
  },
  CanaryMappingMissing: { observation: mesh({ mappings: [mappingPair] }) },
  CanaryMappingServiceMismatch: {
    observation: mesh({ mappings: [{ ...mappingPair, canary: { service: 'echo:80', weight: 20 } }] }),
  },
  StableServiceNotInMapping: {
    observation: mesh({
      mappings: [{ ...mappingPair, baseService: 'other:80', canary: { service: 'x', weight: 20 } }],
    }),
  },
  AccessDenied: { observation: alb({ routes: [], problems: [problem('AccessDenied')] }) },
  Throttled: { observation: alb({ routes: [], problems: [problem('Throttled')] }) },
  ResourceNotFound: { observation: alb({ routes: [], problems: [problem('ResourceNotFound')] }) },
  ObservationError: { observation: alb({ routes: [], problems: [problem('ObservationError')] }) },
  MalformedResponse: { observation: alb({ routes: [], problems: [problem('MalformedResponse')] }) },
  RolloutMovedOn: {
    expected: { successors: [{ canaryWeight: 40, stableWeight: 60, reason: 'setWeight at step 2' }] },
    observation: alb({ routes: [route(40, 60)] }),
  },
  AmbiguousState: {
    expected: { successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }] },
    observation: alb({ routes: [route(0, 100)] }),
  },
  UnsupportedTrafficRouting: {
    observation: mesh({ routes: [], problems: [problem('UnsupportedTrafficRouting')] }),
  },
};

const UNOBSERVABLE = new Set<FindingCode>(UNOBSERVABLE_FINDING_CODES);

describe('every finding code', () => {
  it('has a case here', () => {
    expect(Object.keys(CASES).sort()).toEqual([...FINDING_CODES].sort());
  });

  it.each(FINDING_CODES)('%s comes out of the judge with the verdict its class implies', (code) => {
    const testCase = CASES[code];
    const judgement = judge(expected(testCase.expected), testCase.observation);
    expect(judgement.findings.map((finding) => finding.code)).toContain(code);
    expect(judgement.verdict).toBe(UNOBSERVABLE.has(code) ? 'Inconclusive' : 'Failed');
  });
});
