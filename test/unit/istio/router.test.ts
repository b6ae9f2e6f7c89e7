import { beforeEach, describe, expect, it } from 'vitest';
import { ClusterNotConfiguredError } from '../../../lambdas/core/cluster/cluster-apis.js';
import { Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import type { FindingCode, Verdict } from '../../../lambdas/core/contracts/verdict-event.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type { Router } from '../../../lambdas/core/observation.js';
import { istioRouter, routersFrom } from '../../../lambdas/core/routers/index.js';
import {
  type IstioObservationTarget,
  IstioRouter,
  type IstioTraffic,
} from '../../../lambdas/core/routers/istio/router.js';
import { unverifiableReason, verifyRollout } from '../../../lambdas/core/verify.js';
import { endpointSlice, KubeDouble, kubeFor, type StoredObject } from '../../support/kube-double.js';
import { rolloutEvent } from '../../support/rollout-events.js';

const NS = 'bookinfo';
const GROUP = 'networking.istio.io';
const CANARY_HASH = '7b9c5d8f6';
const STABLE_HASH = '6d4f8c7b9';
const GATEWAY_ONLY = ['istio-system/public-gateway'];

type Destination = { host: string; subset?: string; weight?: number };
interface HttpRouteShape {
  name?: string;
  route: Destination[];
}

/** A route to the stable and canary Services (host-level splitting). */
const hostRoute = (canary: number, stable: number, name?: string): HttpRouteShape => ({
  ...(name ? { name } : {}),
  route: [
    { host: 'reviews-stable', weight: stable },
    { host: 'reviews-canary', weight: canary },
  ],
});

/** A route to the DestinationRule's subsets (subset-level splitting). */
const subsetRoute = (canary: number, stable: number, name?: string): HttpRouteShape => ({
  ...(name ? { name } : {}),
  route: [
    { host: 'reviews', subset: 'stable', weight: stable },
    { host: 'reviews', subset: 'canary', weight: canary },
  ],
});

const routesOf = (routes: Destination[]) =>
  routes.map(({ weight, ...destination }) => ({ destination, ...(weight === undefined ? {} : { weight }) }));

function virtualService(
  http: HttpRouteShape[],
  options: { gateways?: string[]; tls?: unknown[]; tcp?: unknown[] } = {},
): StoredObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'VirtualService',
    spec: {
      hosts: ['reviews.example.com', 'reviews'],
      ...(options.gateways ? { gateways: options.gateways } : {}),
      ...(http.length > 0 ? { http: http.map((route) => ({ ...route, route: routesOf(route.route) })) } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.tcp ? { tcp: options.tcp } : {}),
    },
  };
}

function destinationRule(canaryHash = CANARY_HASH, stableHash = STABLE_HASH, subsets = ['canary', 'stable']) {
  const hashes: Record<string, string> = { canary: canaryHash, stable: stableHash };
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'DestinationRule',
    spec: {
      host: 'reviews',
      subsets: subsets.map((name) => ({
        name,
        labels: { app: 'reviews', ...(hashes[name] ? { 'rollouts-pod-template-hash': hashes[name] } : {}) },
      })),
    },
  };
}

const hostTraffic = (virtualServices: IstioTraffic['virtualServices']): IstioTraffic => ({
  router: 'istio',
  virtualServices,
  stableService: 'reviews-stable',
  canaryService: 'reviews-canary',
});

const subsetTraffic = (virtualServices: IstioTraffic['virtualServices']): IstioTraffic => ({
  router: 'istio',
  virtualServices,
  destinationRule: { name: 'reviews-destrule', canarySubsetName: 'canary', stableSubsetName: 'stable' },
});

const expected = (overrides: Partial<Expected> = {}): Expected =>
  Expected.parse({ canaryWeight: 20, stableWeight: 80, derivation: 'setWeight 20 at step 0', ...overrides });

interface Case {
  name: string;
  traffic: IstioTraffic;
  seed: (kube: KubeDouble) => void;
  expected?: Partial<Expected>;
  verdict: Verdict;
  codes: FindingCode[];
  /** Text every finding message together must contain. */
  says?: string[];
}

const primary = [{ name: 'reviews-vsvc', routes: ['primary'] }];
const unnamed = [{ name: 'reviews-vsvc' }];
const putVs = (kube: KubeDouble, object: StoredObject, name = 'reviews-vsvc', namespace = NS) =>
  kube.put(GROUP, 'virtualservices', namespace, name, object);
const putDr = (kube: KubeDouble, object: StoredObject = destinationRule()) =>
  kube.put(GROUP, 'destinationrules', NS, 'reviews-destrule', object);
const putPods = (kube: KubeDouble, stable: number, canary: number, service = 'reviews') => {
  const ips = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `10.0.${prefix}.${i + 1}`);
  kube.put(
    'discovery.k8s.io',
    'endpointslices',
    NS,
    `${service}-stable-a`,
    endpointSlice(`${service}-stable`, ips('1', stable)),
  );
  kube.put(
    'discovery.k8s.io',
    'endpointslices',
    NS,
    `${service}-canary-a`,
    endpointSlice(`${service}-canary`, ips('2', canary)),
  );
};

const cases: Case[] = [
  // happy paths
  {
    name: 'host-level: the named route carries 20/80',
    traffic: hostTraffic(primary),
    seed: (kube) => putVs(kube, virtualService([hostRoute(20, 80, 'primary')])),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'subset-level: subsets carry 20/80 and select the right ReplicaSets',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
      putDr(kube);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'only the named route is checked; other routes may carry anything',
    traffic: hostTraffic(primary),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([{ name: 'admin', route: [{ host: 'admin' }] }, hostRoute(20, 80, 'primary')]),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'weights not applied on the named route',
    traffic: hostTraffic(primary),
    seed: (kube) => putVs(kube, virtualService([hostRoute(0, 100, 'primary')])),
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: [
      'HTTP route "primary" of VirtualService bookinfo/reviews-vsvc: canary 0 / stable 100, expected canary 20 / stable 80',
    ],
  },
  {
    name: 'a third destination takes weight',
    traffic: hostTraffic(primary),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([
          {
            name: 'primary',
            route: [
              { host: 'reviews-stable', weight: 70 },
              { host: 'reviews-canary', weight: 20 },
              { host: 'reviews-legacy', weight: 10 },
            ],
          },
        ]),
      ),
    verdict: 'Failed',
    codes: ['UnexpectedTargetGroup', 'WeightMismatch'],
    says: ['sends weight 10 to reviews-legacy'],
  },
  {
    name: 'a running experiment’s Service carries its weight beside the sides (host-level)',
    traffic: hostTraffic(primary),
    expected: {
      canaryWeight: 20,
      stableWeight: 70,
      additional: [{ weight: 10, service: 'reviews-exp-baseline' }],
    },
    seed: (kube) =>
      putVs(
        kube,
        virtualService([
          {
            name: 'primary',
            route: [
              { host: 'reviews-stable', weight: 70 },
              { host: 'reviews-canary', weight: 20 },
              { host: 'reviews-exp-baseline', weight: 10 },
            ],
          },
        ]),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'additionalSubsetNames keep their weight out of the stable share',
    traffic: {
      ...subsetTraffic(primary),
      destinationRule: {
        name: 'reviews-destrule',
        canarySubsetName: 'canary',
        stableSubsetName: 'stable',
        additionalSubsetNames: ['experiment'],
      },
    },
    seed: (kube) => {
      putVs(
        kube,
        virtualService([
          {
            name: 'primary',
            route: [
              { host: 'reviews', subset: 'stable', weight: 60 },
              { host: 'reviews', subset: 'canary', weight: 20 },
              { host: 'reviews', subset: 'experiment', weight: 20 },
            ],
          },
        ]),
      );
      putDr(kube, destinationRule(CANARY_HASH, STABLE_HASH, ['canary', 'stable', 'experiment']));
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'the same subset without additionalSubsetNames is unexpected',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(
        kube,
        virtualService([
          {
            name: 'primary',
            route: [
              { host: 'reviews', subset: 'stable', weight: 60 },
              { host: 'reviews', subset: 'canary', weight: 20 },
              { host: 'reviews', subset: 'experiment', weight: 20 },
            ],
          },
        ]),
      );
      putDr(kube, destinationRule(CANARY_HASH, STABLE_HASH, ['canary', 'stable', 'experiment']));
    },
    verdict: 'Failed',
    codes: ['UnexpectedTargetGroup', 'WeightMismatch'],
  },
  {
    name: 'managed routes (setHeaderRoute, setMirrorRoute) are not the weighted route: the rollout names none',
    traffic: { ...hostTraffic(unnamed), managedRoutes: ['header-route', 'mirror-route'] },
    seed: (kube) =>
      putVs(
        kube,
        virtualService([
          { name: 'header-route', route: [{ host: 'reviews-canary', weight: 100 }] },
          { name: 'mirror-route', route: [{ host: 'reviews-stable', weight: 100 }] },
          hostRoute(20, 80),
        ]),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'without managedRoutes the same three routes are ambiguous',
    traffic: hostTraffic(unnamed),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([
          { name: 'header-route', route: [{ host: 'reviews-canary', weight: 100 }] },
          { name: 'mirror-route', route: [{ host: 'reviews-stable', weight: 100 }] },
          hostRoute(20, 80),
        ]),
      ),
    verdict: 'Failed',
    codes: ['AmbiguousRoutes'],
  },
  {
    name: 'fully qualified hosts in the rollout namespace are the rollout services',
    traffic: hostTraffic(primary),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([
          {
            name: 'primary',
            route: [
              { host: 'reviews-stable.bookinfo.svc.cluster.local', weight: 80 },
              { host: 'reviews-canary.bookinfo.svc.cluster.local', weight: 20 },
            ],
          },
        ]),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  // field case 1: a single route, rollout names none (argo-rollouts #3884)
  {
    name: '#3884: the only route has a name and the rollout names none — used and checked (applied)',
    traffic: hostTraffic(unnamed),
    seed: (kube) => putVs(kube, virtualService([hostRoute(20, 80, 'primary')])),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: '#3884: the only named route was skipped by the controller — caught, with the cause',
    traffic: hostTraffic(unnamed),
    seed: (kube) => putVs(kube, virtualService([hostRoute(0, 100, 'primary')])),
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: [
      '"primary" is the VirtualService\'s only HTTP route',
      'argo-rollouts #3884',
      'virtualService.routes',
    ],
  },
  {
    name: 'a single unnamed route with none named is used',
    traffic: subsetTraffic(unnamed),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80)]));
      putDr(kube);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  // field case 2: several routes, none named
  {
    name: 'several HTTP routes and the rollout names none: ambiguous, not a silent pass',
    traffic: hostTraffic(unnamed),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([hostRoute(20, 80, 'primary'), hostRoute(20, 80, 'secondary'), hostRoute(0, 100)]),
      ),
    verdict: 'Failed',
    codes: ['AmbiguousRoutes'],
    says: ['ambiguous: name the routes', '"primary", "secondary", http[2] (unnamed)'],
  },
  {
    name: 'a named route the VirtualService lacks',
    traffic: hostTraffic([{ name: 'reviews-vsvc', routes: ['primary', 'mobile'] }]),
    seed: (kube) => putVs(kube, virtualService([hostRoute(20, 80, 'primary')])),
    verdict: 'Failed',
    codes: ['RouteNotFound'],
    says: ['names HTTP route "mobile"', 'its HTTP routes: "primary"'],
  },
  {
    name: 'no route at all',
    traffic: hostTraffic(unnamed),
    seed: (kube) => putVs(kube, virtualService([])),
    verdict: 'Failed',
    codes: ['RouteNotFound'],
  },
  // field case 3: mesh bypass
  {
    name: 'mesh bypass: gateway-only VirtualService, in-cluster split by pods 2 of 6 while 20 expected',
    traffic: hostTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')], { gateways: GATEWAY_ONLY }));
      putPods(kube, 4, 2);
    },
    verdict: 'Failed',
    codes: ['MeshBypass'],
    says: [
      'bound only to gateway(s) istio-system/public-gateway, not to "mesh"',
      'canary 2 of 6 (33 %)',
      'expects canary 20 / stable 80',
    ],
  },
  {
    name: 'mesh bypass whose pod split happens to equal the weights: no finding',
    traffic: hostTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')], { gateways: GATEWAY_ONLY }));
      putPods(kube, 4, 1);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'bound to mesh as well: sidecars apply the weights',
    traffic: hostTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')], { gateways: [...GATEWAY_ONLY, 'mesh'] }));
      putPods(kube, 4, 2);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'a second, mesh-bound VirtualService covers in-cluster callers',
    traffic: hostTraffic([...primary, { name: 'reviews-internal', routes: ['primary'] }]),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')], { gateways: GATEWAY_ONLY }));
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')]), 'reviews-internal');
      putPods(kube, 4, 2);
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'mesh bypass after promotion: both Services select the same pods, canary 0 is right',
    traffic: hostTraffic(primary),
    expected: { canaryWeight: 0, stableWeight: 100 },
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(0, 100, 'primary')], { gateways: GATEWAY_ONLY }));
      const same = ['10.0.1.1', '10.0.1.2'];
      kube.put('discovery.k8s.io', 'endpointslices', NS, 's', endpointSlice('reviews-stable', same));
      kube.put('discovery.k8s.io', 'endpointslices', NS, 'c', endpointSlice('reviews-canary', same));
    },
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'mesh bypass, subset routing without Services: sides unknown, mid-rollout is a finding',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80, 'primary')], { gateways: GATEWAY_ONLY }));
      putDr(kube);
      kube.put(
        'discovery.k8s.io',
        'endpointslices',
        NS,
        'r',
        endpointSlice('reviews', ['10.0.3.1', '10.0.3.2']),
      );
    },
    verdict: 'Failed',
    codes: ['MeshBypass'],
    says: ['2 ready pod(s) of service/bookinfo/reviews by pod count'],
  },
  // DestinationRule subsets
  {
    name: 'canary subset still selects the stable ReplicaSet',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
      putDr(kube, destinationRule(STABLE_HASH, STABLE_HASH));
    },
    verdict: 'Failed',
    codes: ['DestinationRuleSubsetMismatch'],
    says: [`selects the pods of ReplicaSet hash ${STABLE_HASH}`, `canary side runs hash ${CANARY_HASH}`],
  },
  {
    name: 'the canary subset does not exist',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
      putDr(kube, destinationRule(CANARY_HASH, STABLE_HASH, ['stable']));
    },
    verdict: 'Failed',
    codes: ['DestinationRuleSubsetMismatch'],
    says: ['no subset "canary"', '503'],
  },
  // TLS / TCP when configured
  {
    name: 'TLS route matched by port and SNI carries 20/80',
    traffic: hostTraffic([
      { name: 'reviews-vsvc', tlsRoutes: [{ port: 443, sniHosts: ['reviews.example.com'] }] },
    ]),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([], {
          tls: [
            {
              match: [{ port: 443, sniHosts: ['reviews.example.com'] }],
              route: routesOf(hostRoute(20, 80).route),
            },
          ],
        }),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  {
    name: 'TLS route named by SNI the VirtualService does not have',
    traffic: hostTraffic([
      { name: 'reviews-vsvc', tlsRoutes: [{ port: 443, sniHosts: ['api.example.com'] }] },
    ]),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([], {
          tls: [
            {
              match: [{ port: 443, sniHosts: ['reviews.example.com'] }],
              route: routesOf(hostRoute(20, 80).route),
            },
          ],
        }),
      ),
    verdict: 'Failed',
    codes: ['RouteNotFound'],
    says: ['names TLS route port 443, SNI api.example.com', 'tls[0] (port 443, SNI reviews.example.com)'],
  },
  {
    name: 'TCP route on port 3306 not shifted',
    traffic: hostTraffic([{ name: 'reviews-vsvc', tcpRoutes: [{ port: 3306 }] }]),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([], { tcp: [{ match: [{ port: 3306 }], route: routesOf(hostRoute(0, 100).route) }] }),
      ),
    verdict: 'Failed',
    codes: ['WeightMismatch'],
    says: ['TCP route tcp[0] (port 3306)'],
  },
  {
    name: 'HTTP and an unnamed TCP route to the rollout: both checked',
    traffic: hostTraffic(primary),
    seed: (kube) =>
      putVs(
        kube,
        virtualService([hostRoute(20, 80, 'primary')], {
          tcp: [
            { match: [{ port: 3306 }], route: routesOf(hostRoute(20, 80).route) },
            { match: [{ port: 6379 }], route: [{ destination: { host: 'redis' } }] },
          ],
        }),
      ),
    verdict: 'Succeeded',
    codes: [],
  },
  // a VirtualService in another namespace resolves short hosts there
  {
    name: 'VirtualService in another namespace with short hosts points at that namespace',
    traffic: hostTraffic([{ name: 'reviews-edge', namespace: 'edge', routes: ['primary'] }]),
    seed: (kube) => putVs(kube, virtualService([hostRoute(20, 80, 'primary')]), 'reviews-edge', 'edge'),
    verdict: 'Failed',
    codes: [
      'TargetGroupMissing',
      'TargetGroupMissing',
      'UnexpectedTargetGroup',
      'UnexpectedTargetGroup',
      'WeightMismatch',
    ],
  },
  // could not observe
  {
    name: 'VirtualService read forbidden: Inconclusive, naming what to grant',
    traffic: hostTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')]));
      kube.fail({ plural: 'virtualservices' }, 403);
    },
    verdict: 'Inconclusive',
    codes: ['AccessDenied'],
    says: ['get virtualservices.networking.istio.io', 'rollout-verifier-observer'],
  },
  {
    name: 'VirtualService not found: Inconclusive, naming where to look',
    traffic: hostTraffic([{ name: 'reviews-vsvc-typo', routes: ['primary'] }]),
    seed: () => {},
    verdict: 'Inconclusive',
    codes: ['ResourceNotFound'],
    says: ['virtualservice/bookinfo/reviews-vsvc-typo', 'trafficRouting.istio.virtualService(s)'],
  },
  {
    name: 'DestinationRule forbidden while the weights are right: Inconclusive',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
      putDr(kube);
      kube.fail({ plural: 'destinationrules' }, 403);
    },
    verdict: 'Inconclusive',
    codes: ['AccessDenied'],
    says: ['get destinationrules.networking.istio.io'],
  },
  {
    name: 'EndpointSlices forbidden in the bypass case: Inconclusive',
    traffic: hostTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([hostRoute(20, 80, 'primary')], { gateways: GATEWAY_ONLY }));
      kube.fail({ plural: 'endpointslices' }, 403);
    },
    verdict: 'Inconclusive',
    codes: ['AccessDenied', 'AccessDenied'],
    says: ['list endpointslices.discovery.k8s.io'],
  },
  {
    name: 'an unreadable DestinationRule keeps a wrong weight as evidence of an incomplete observation',
    traffic: subsetTraffic(primary),
    seed: (kube) => {
      putVs(kube, virtualService([subsetRoute(0, 100, 'primary')]));
      kube.fail({ plural: 'destinationrules' }, 404);
    },
    verdict: 'Inconclusive',
    codes: ['ResourceNotFound', 'WeightMismatch'],
  },
];

describe('Istio router: observation → judge → verdict', () => {
  let kube: KubeDouble;
  beforeEach(() => {
    kube = new KubeDouble();
  });

  it.each(cases)('$name → $verdict', async ({ traffic, seed, expected: overrides, verdict, codes, says }) => {
    seed(kube);
    const target: IstioObservationTarget = {
      namespace: NS,
      cluster: 'prod',
      traffic,
      podTemplateHash: CANARY_HASH,
      stablePodTemplateHash: STABLE_HASH,
    };
    const observation = await new IstioRouter(kubeFor(kube)).observe(target);
    const judgement = judge(expected(overrides), observation);
    expect(judgement.findings.map((finding) => finding.code)).toEqual(codes);
    expect(judgement.verdict).toBe(verdict);
    const text = judgement.findings.map((finding) => finding.message).join('\n');
    for (const fragment of says ?? []) expect(text).toContain(fragment);
    for (const finding of judgement.findings) {
      expect(finding.resource).not.toBe('');
      expect(finding.expected).toBeDefined();
      expect(finding.observed).toBeDefined();
    }
  });

  it('has table cases for every field case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it('names routes virtualservice/<ns>/<name>#<route> and reports destinations by role', async () => {
    putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
    putDr(kube);
    const observation = await new IstioRouter(kubeFor(kube)).observe({
      namespace: NS,
      traffic: subsetTraffic(primary),
    });
    expect(observation.routes).toEqual([
      {
        resource: 'virtualservice/bookinfo/reviews-vsvc#primary',
        description: 'HTTP route "primary" of VirtualService bookinfo/reviews-vsvc',
        destinations: [
          { resource: 'reviews subset stable', role: 'stable', weight: 80 },
          { resource: 'reviews subset canary', role: 'canary', weight: 20 },
        ],
        selectedBy: 'name',
        routeName: 'primary',
      },
    ]);
    // No mesh bypass, so no EndpointSlice reads: one GET per object.
    expect(kube.requests.map((request) => request.path)).toEqual([
      '/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices/reviews-vsvc',
      '/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules/reviews-destrule',
    ]);
  });

  it('falls back to v1alpha3 on clusters without networking.istio.io/v1, and remembers it', async () => {
    kube = new KubeDouble({ served: { [GROUP]: ['v1alpha3', 'v1beta1'] } });
    putVs(kube, virtualService([hostRoute(20, 80, 'primary')]));
    const router = new IstioRouter(kubeFor(kube));
    const target: IstioObservationTarget = { namespace: NS, traffic: hostTraffic(primary) };
    expect(judge(expected(), await router.observe(target)).verdict).toBe('Succeeded');
    expect(judge(expected(), await router.observe(target)).verdict).toBe('Succeeded');
    expect(kube.requests.map((request) => request.path.split('/')[3])).toEqual([
      'v1',
      'v1alpha3',
      'v1alpha3',
    ]);
  });

  it('reads the API versions it is given', async () => {
    kube = new KubeDouble({ served: { [GROUP]: ['v1beta1'] } });
    putVs(kube, virtualService([hostRoute(20, 80, 'primary')]));
    const router = new IstioRouter(kubeFor(kube), { apiVersions: ['v1beta1'] });
    await router.observe({ namespace: NS, traffic: hostTraffic(primary) });
    expect(kube.requests.map((request) => request.path.split('/')[3])).toEqual(['v1beta1']);
  });

  it('a cluster the verifier is not configured for is Inconclusive, never Failed', async () => {
    const router = new IstioRouter(
      kubeFor(new ClusterNotConfiguredError('cluster "dev" is not one of the configured clusters (prod)')),
    );
    const observation = await router.observe({
      namespace: NS,
      cluster: 'dev',
      traffic: hostTraffic(primary),
    });
    const judgement = judge(expected(), observation);
    expect(judgement.verdict).toBe('Inconclusive');
    expect(judgement.findings[0]).toMatchObject({
      code: 'ObservationError',
      resource: 'virtualservice/bookinfo/reviews-vsvc',
    });
    expect(judgement.findings[0]?.message).toContain('not one of the configured clusters');
  });

  it('an event naming no VirtualService is never a silent pass', async () => {
    const observation = await new IstioRouter(kubeFor(kube)).observe({
      namespace: NS,
      traffic: hostTraffic([]),
    });
    const judgement = judge(expected(), observation);
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', final: true });
    expect(judgement.findings.map((finding) => finding.code)).toEqual(['UnsupportedTrafficRouting']);
    expect(kube.requests).toEqual([]);
  });

  it('an unreadable VirtualService is an observation error, not a crash', async () => {
    putVs(kube, { spec: { http: [{ name: 'primary', route: 'everything' }] } });
    const observation = await new IstioRouter(kubeFor(kube)).observe({
      namespace: NS,
      traffic: hostTraffic(primary),
    });
    expect(observation.problems.map((problem) => problem.code)).toEqual(['ObservationError']);
    expect(observation.problems[0]?.message).toContain('spec.http.0.route');
  });
});

describe('Istio through verifyRollout', () => {
  const event = (traffic: IstioTraffic) =>
    rolloutEvent({
      rollout: {
        namespace: NS,
        name: 'reviews',
        uid: 'c0a8e4d2-6b1f-4f7e-8d3c-2a9b5e7f1c46',
        revision: 5,
        podTemplateHash: CANARY_HASH,
        stablePodTemplateHash: STABLE_HASH,
      },
      traffic,
    });
  const noAlb: Router = {
    kind: 'alb',
    observe: async () => {
      throw new Error('the ALB router must not be called for an Istio rollout');
    },
  };

  it('routes an Istio event to the Istio router and reports its routes as evidence', async () => {
    const kube = new KubeDouble();
    putVs(kube, virtualService([subsetRoute(20, 80, 'primary')]));
    putDr(kube);
    const verdict = await verifyRollout(
      event(subsetTraffic(primary)),
      routersFrom([noAlb, istioRouter(kubeFor(kube))]),
      { deadlineSeconds: 1 },
    );
    expect(verdict).toMatchObject({ verdict: 'Succeeded', traffic: { router: 'istio' }, findings: [] });
    expect(verdict.evidence?.routes[0]?.resource).toBe('virtualservice/bookinfo/reviews-vsvc#primary');
  });

  it('says why when no Istio router is configured', () => {
    const reason = unverifiableReason(event(subsetTraffic(primary)), routersFrom([noAlb]));
    expect(reason).toContain('no access to the rollout');
    expect(unverifiableReason(event(subsetTraffic(primary)), routersFrom([]))).toBe(reason);
    expect(
      unverifiableReason(
        event(subsetTraffic(primary)),
        routersFrom([istioRouter(kubeFor(new KubeDouble()))]),
      ),
    ).toBeUndefined();
  });
});
