import { beforeEach, describe, expect, it } from 'vitest';
import { Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import type { FindingCode, Verdict } from '../../../lambdas/core/contracts/verdict-event.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type { Router } from '../../../lambdas/core/observation.js';
import {
  type AmbassadorObservationTarget,
  AmbassadorRouter,
  type AmbassadorTraffic,
  canaryMappingName,
} from '../../../lambdas/core/routers/ambassador/router.js';
import { ambassadorRouter, routersFrom } from '../../../lambdas/core/routers/index.js';
import { unverifiableReason, verifyRollout } from '../../../lambdas/core/verify.js';
import { KubeDouble, kubeFor } from '../../support/kube-double.js';
import { rolloutEvent } from '../../support/rollout-events.js';

const NS = 'shop';
const GROUP = 'getambassador.io';

const traffic = (mappings = ['echo-mapping']): AmbassadorTraffic => ({
  router: 'ambassador',
  mappings,
  stableService: 'echo-stable',
  canaryService: 'echo-canary',
});

const mapping = (service: string | undefined, weight?: number) => ({
  apiVersion: `${GROUP}/v2`,
  kind: 'Mapping',
  spec: {
    prefix: '/echo/',
    ...(service === undefined ? {} : { service }),
    ...(weight === undefined ? {} : { weight }),
  },
});

const expected = (overrides: Partial<Expected> = {}): Expected =>
  Expected.parse({ canaryWeight: 20, stableWeight: 80, derivation: 'setWeight 20 at step 0', ...overrides });

const putMapping = (kube: KubeDouble, name: string, service: string | undefined, weight?: number) =>
  kube.put(GROUP, 'mappings', NS, name, mapping(service, weight));

interface Case {
  name: string;
  mappings?: string[];
  seed: (kube: KubeDouble) => void;
  expected?: Partial<Expected>;
  verdict: Verdict;
  codes: FindingCode[];
  says?: string[];
}

const HTTPS_BASE = 'https://echo-stable.shop:8443';
const HTTPS_CANARY = 'https://echo-canary.shop:8443';

const cases: Case[] = [
  // happy paths
  {
    name: 'plain service: canary Mapping with weight 20',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: '#3593 done right: scheme, namespace and port kept',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', HTTPS_BASE);
      putMapping(kube, 'echo-mapping-canary', HTTPS_CANARY, 20);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'canary weight 0: Argo deleted the canary Mapping',
    expected: { canaryWeight: 0, stableWeight: 100 },
    seed: (kube) => putMapping(kube, 'echo-mapping', HTTPS_BASE),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'full promotion at 100: the canary Mapping takes everything',
    expected: { canaryWeight: 100, stableWeight: 0 },
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary', 100);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  // field case 4: #3593 and the stable name missing from the service
  {
    name: '#3593: the canary Mapping lost https://, the namespace and kept only the port',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', HTTPS_BASE);
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:8443', 20);
    },
    verdict: 'Failed',
    codes: ['CanaryMappingServiceMismatch'],
    says: [
      `expected "${HTTPS_CANARY}"`,
      'the scheme https:// is lost',
      'the namespace part "shop" is lost',
      'argo-rollouts #3593',
    ],
  },
  {
    name: 'the canary Mapping lost the port',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable.shop:8080');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary.shop', 20);
    },
    verdict: 'Failed',
    codes: ['CanaryMappingServiceMismatch'],
    says: ['the port 8080 is lost'],
  },
  {
    name: 'the base service does not name the stable Service: the canary would point at stable',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'https://echo.shop:8443');
      putMapping(kube, 'echo-mapping-canary', 'https://echo.shop:8443', 20);
    },
    verdict: 'Failed',
    codes: ['StableServiceNotInMapping'],
    says: ['does not name the stable Service echo-stable', 'would silently go to the same backend'],
  },
  {
    name: 'a name that merely contains the stable name is not it',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable-v2:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    },
    verdict: 'Failed',
    codes: ['StableServiceNotInMapping'],
  },
  {
    name: 'the canary Mapping routes to some other Service',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-preview:80', 20);
    },
    verdict: 'Failed',
    codes: ['CanaryMappingServiceMismatch'],
    says: ['it names "echo-preview", not the canary Service echo-canary'],
  },
  // weights
  {
    name: 'the canary Mapping is missing while the step needs 20',
    seed: (kube) => putMapping(kube, 'echo-mapping', 'echo-stable:80'),
    verdict: 'Failed',
    codes: ['WeightMismatch', 'CanaryMappingMissing'],
    says: ['canary Mapping mapping/shop/echo-mapping-canary does not exist'],
  },
  {
    name: 'a base Mapping with its own weight is never cloned',
    seed: (kube) => putMapping(kube, 'echo-mapping', 'echo-stable:80', 100),
    verdict: 'Failed',
    codes: ['WeightMismatch', 'CanaryMappingMissing'],
    says: ['the base Mapping sets weight 100, and Argo refuses to clone a Mapping that has one'],
  },
  {
    name: 'the canary Mapping carries the previous weight',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 10);
    },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: ['canary 10 / stable 90, expected canary 20 / stable 80'],
  },
  {
    name: 'a canary Mapping without a weight splits evenly with the base',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80');
    },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: ['canary 50 / stable 50'],
  },
  {
    name: 'the canary Mapping left behind after an abort',
    expected: { canaryWeight: 0, stableWeight: 100 },
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
  },
  {
    name: 'a missing canary Mapping and a full promotion look alike: ambiguous',
    expected: { successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }] },
    seed: (kube) => putMapping(kube, 'echo-mapping', 'echo-stable:80'),
    verdict: 'Inconclusive',
    codes: ['AmbiguousState'],
  },
  {
    name: 'every Mapping is checked: one of two lags',
    mappings: ['echo-mapping', 'echo-grpc-mapping'],
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
      putMapping(kube, 'echo-grpc-mapping', 'echo-stable:9090');
      putMapping(kube, 'echo-grpc-mapping-canary', 'echo-canary:9090', 0);
    },
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: ['Mapping shop/echo-grpc-mapping'],
  },
  // could not observe
  {
    name: 'Mappings forbidden: Inconclusive, naming what to grant',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      kube.fail({ plural: 'mappings' }, 403);
    },
    verdict: 'Inconclusive',
    codes: ['AccessDenied'],
    says: ['get mappings.getambassador.io', 'rollout-verifier-observer'],
  },
  {
    name: 'base Mapping not found: Inconclusive, naming where to look',
    seed: () => {},
    verdict: 'Inconclusive',
    codes: ['ResourceNotFound'],
    says: ['base Mapping mapping/shop/echo-mapping does not exist', 'trafficRouting.ambassador.mappings'],
  },
  {
    name: 'the canary read forbidden after the base was read: Inconclusive',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      kube.fail({ plural: 'mappings', name: 'echo-mapping-canary' }, 403);
    },
    verdict: 'Inconclusive',
    codes: ['AccessDenied'],
  },
  {
    name: 'throttled by the API server: Inconclusive',
    seed: (kube) => {
      putMapping(kube, 'echo-mapping', 'echo-stable:80');
      kube.fail({ plural: 'mappings' }, 429);
    },
    verdict: 'Inconclusive',
    codes: ['Throttled'],
  },
];

describe('Ambassador router: observation → judge → verdict', () => {
  let kube: KubeDouble;
  beforeEach(() => {
    kube = new KubeDouble();
  });

  it.each(cases)(
    '$name → $verdict',
    async ({ mappings, seed, expected: overrides, verdict, codes, says }) => {
      seed(kube);
      const target: AmbassadorObservationTarget = {
        namespace: NS,
        cluster: 'prod',
        traffic: traffic(mappings),
      };
      const observation = await new AmbassadorRouter(kubeFor(kube)).observe(target);
      const judgement = judge(expected(overrides), observation);
      expect(judgement.findings.map((finding) => finding.code)).toEqual(codes);
      expect(judgement.verdict).toBe(verdict);
      const text = judgement.findings.map((finding) => finding.message).join('\n');
      for (const fragment of says ?? []) expect(text).toContain(fragment);
    },
  );

  it('reports each pair as a route with the canary Mapping weight against the base', async () => {
    putMapping(kube, 'echo-mapping', HTTPS_BASE);
    putMapping(kube, 'echo-mapping-canary', HTTPS_CANARY, 20);
    const observation = await new AmbassadorRouter(kubeFor(kube)).observe({
      namespace: NS,
      traffic: traffic(),
    });
    expect(observation.routes).toEqual([
      {
        resource: 'mapping/shop/echo-mapping',
        description: 'Mapping shop/echo-mapping with its canary Mapping shop/echo-mapping-canary',
        destinations: [
          { resource: 'mapping/shop/echo-mapping', role: 'stable', weight: 80 },
          { resource: 'mapping/shop/echo-mapping-canary', role: 'canary', weight: 20 },
        ],
      },
    ]);
    expect(observation.mappings).toEqual([
      {
        resource: 'mapping/shop/echo-mapping',
        canaryResource: 'mapping/shop/echo-mapping-canary',
        stableService: 'echo-stable',
        canaryService: 'echo-canary',
        baseService: HTTPS_BASE,
        canary: { service: HTTPS_CANARY, weight: 20 },
      },
    ]);
    expect(kube.requests.map((request) => request.path)).toEqual([
      '/apis/getambassador.io/v2/namespaces/shop/mappings/echo-mapping',
      '/apis/getambassador.io/v2/namespaces/shop/mappings/echo-mapping-canary',
    ]);
  });

  it('reads v3alpha1 where getambassador.io/v2 is not served, and remembers it', async () => {
    kube = new KubeDouble({ served: { [GROUP]: ['v3alpha1'] } });
    putMapping(kube, 'echo-mapping', 'echo-stable:80');
    putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    const router = new AmbassadorRouter(kubeFor(kube));
    expect(judge(expected(), await router.observe({ namespace: NS, traffic: traffic() })).verdict).toBe(
      'Succeeded',
    );
    expect(kube.requests.map((request) => request.path.split('/')[3])).toEqual([
      'v2',
      'v3alpha1',
      'v3alpha1',
    ]);
  });

  it('reads x.getambassador.io/v3alpha1 AmbassadorMappings where no Mapping API serves them', async () => {
    kube = new KubeDouble({ served: { [GROUP]: [], 'x.getambassador.io': ['v3alpha1'] } });
    const ambassadorMapping = (service: string, weight?: number) => ({
      apiVersion: 'x.getambassador.io/v3alpha1',
      kind: 'AmbassadorMapping',
      spec: { prefix: '/echo/', service, ...(weight === undefined ? {} : { weight }) },
    });
    kube.put('x.getambassador.io', 'ambassadormappings', NS, 'echo-mapping', ambassadorMapping(HTTPS_BASE));
    kube.put(
      'x.getambassador.io',
      'ambassadormappings',
      NS,
      'echo-mapping-canary',
      ambassadorMapping(HTTPS_CANARY, 20),
    );
    const router = new AmbassadorRouter(kubeFor(kube));
    expect(judge(expected(), await router.observe({ namespace: NS, traffic: traffic() })).verdict).toBe(
      'Succeeded',
    );
    // The canary Mapping is read through the API that served the base, and only that one.
    expect(kube.requests.map((request) => request.path.split('/').slice(2, 4).join('/'))).toEqual([
      'getambassador.io/v2',
      'getambassador.io/v3alpha1',
      'x.getambassador.io/v3alpha1',
      'x.getambassador.io/v3alpha1',
    ]);
    expect(kube.requests.at(-1)?.path).toBe(
      '/apis/x.getambassador.io/v3alpha1/namespaces/shop/ambassadormappings/echo-mapping-canary',
    );
  });

  it('a canary AmbassadorMapping that is absent is absent, not looked for under the other APIs', async () => {
    kube = new KubeDouble({ served: { [GROUP]: ['v2'], 'x.getambassador.io': ['v3alpha1'] } });
    kube.put('x.getambassador.io', 'ambassadormappings', NS, 'echo-mapping', {
      spec: { prefix: '/echo/', service: 'echo-stable:80' },
    });
    // A Mapping of the same name under getambassador.io is another object: it must not stand in.
    putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    const router = new AmbassadorRouter(kubeFor(kube));
    const observation = await router.observe({ namespace: NS, traffic: traffic() });
    expect(observation.mappings?.[0]?.canary).toBeUndefined();
  });

  it('names the canary Mapping the way Argo does, cutting long names', () => {
    expect(canaryMappingName('echo')).toBe('echo-canary');
    expect(canaryMappingName('a'.repeat(250))).toBe(`${'a'.repeat(246)}-canary`);
  });
});

describe('Ambassador through verifyRollout', () => {
  const event = rolloutEvent({ traffic: traffic() });
  const noAlb: Router = {
    kind: 'alb',
    observe: async () => {
      throw new Error('the ALB router must not be called for an Ambassador rollout');
    },
  };

  it('routes an Ambassador event to the Ambassador router', async () => {
    const kube = new KubeDouble();
    putMapping(kube, 'echo-mapping', 'echo-stable.shop:80');
    putMapping(kube, 'echo-mapping-canary', 'echo-canary:80', 20);
    const verdict = await verifyRollout(event, routersFrom([noAlb, ambassadorRouter(kubeFor(kube))]), {
      deadlineSeconds: 1,
      initialDelayMs: 1,
      maxDelayMs: 1,
    });
    expect(verdict.verdict).toBe('Failed');
    expect(verdict.traffic.router).toBe('ambassador');
    expect(verdict.findings.map((finding) => finding.code)).toEqual(['CanaryMappingServiceMismatch']);
    expect(verdict.findings[0]?.message).toContain('the namespace part "shop" is lost');
  });

  it('says why when no Ambassador router is configured', () => {
    expect(unverifiableReason(event, routersFrom([noAlb]))).toContain(
      'reads Mappings through the Kubernetes API',
    );
  });
});
