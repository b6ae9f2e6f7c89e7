import { beforeAll, describe, type ExpectStatic, it, vi } from 'vitest';
import type { KubeApi } from '../../lambdas/core/cluster/kube-api.js';
import { HttpsKubeApi } from '../../lambdas/core/cluster/kube-client.js';
import type { RolloutEventDetail } from '../../lambdas/core/contracts/rollout-event.js';
import { isObservationGap, isUnobservable } from '../../lambdas/core/judge/index.js';
import { createElbApi } from '../../lambdas/core/routers/alb/client.js';
import {
  albRouter,
  ambassadorRouter,
  istioRouter,
  type Routers,
  routersFrom,
} from '../../lambdas/core/routers/index.js';
import { verifyRollout } from '../../lambdas/core/verify.js';
import { type Elbv2Sim, startElbv2Sim } from '../../sim/elbv2/index.js';
import {
  type ClusterCertificates,
  generateClusterCertificates,
  type KubeObject,
  type KubeSim,
  startKubeSim,
} from '../../sim/kube/index.js';
import {
  CASE_TIMEOUT_MS,
  type FaultOutcome,
  FIRST_DEADLINE_SECONDS,
  runUnstarved,
  staggeredStart,
  TIMINGS,
  type Timing,
} from '../support/fault-matrix.js';
import { type ProxiedRequest, startFaultProxy } from '../support/fault-proxy.js';
import { KUBE_WIRE_FAULTS, type KubeWireFault, kubeWireFault } from '../support/kube-wire-faults.js';
import { rolloutEvent } from '../support/rollout-events.js';
import { expectedFindingCode } from '../support/wire-faults.js';

/**
 * Issue 11 §1 for the Kubernetes reads: every read of the mesh routers (Istio VirtualService,
 * DestinationRule and, when the VirtualService bypasses the mesh, the Services' EndpointSlices;
 * Ambassador's base and canary Mappings) and the EndpointSlices the ALB router compares
 * registrations with × every fault × three moments, through the production HTTPS client and a
 * fault-injecting TLS proxy in front of the Kubernetes API fake, on the verify handler's path.
 */

/** Cases in flight at once: they mostly wait for their deadline (at 144 at once, the CPU starves them). */
const CONCURRENCY = 72;
vi.setConfig({ maxConcurrency: CONCURRENCY });

const NS = 'shop';
/** The verify handler's converge settings (1 s doubling to 5 s), 5× faster. */
const CONVERGE = { initialDelayMs: 200, maxDelayMs: 1_000 };
/** The verify function's Kubernetes client (5 s per attempt, 4 attempts, 200 ms doubling to 3 s), 5× faster. */
const KUBE_CLIENT = { requestTimeoutMs: 1_000, maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 600 };
const CANARY_HASH = '6d4f8c9b7';
const STABLE_HASH = '5c7b9d8e6';

const pathOf = (request: ProxiedRequest) => request.path.split('?')[0] ?? '';
const getOf = (suffix: string) => (request: ProxiedRequest) =>
  request.method === 'GET' && pathOf(request).endsWith(suffix);

/** Ready pods behind a Service, on the target port its `http` port resolves to. */
function endpointSlice(name: string, service: string, addresses: string[], targetPort = 8080): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: targetPort }],
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
  } as KubeObject;
}

/** A Service whose port 80 (`http`) the ALB forwards to. */
const service = (name: string) =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  }) as KubeObject;

function virtualService(canary: number, route: 'host' | 'subset', gateways?: string[]): KubeObject {
  const destinations =
    route === 'host'
      ? [{ host: 'reviews' }, { host: 'reviews-canary' }]
      : [
          { host: 'reviews', subset: 'stable' },
          { host: 'reviews', subset: 'canary' },
        ];
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: NS },
    spec: {
      hosts: ['reviews'],
      ...(gateways ? { gateways } : {}),
      http: [
        {
          name: 'primary',
          route: [
            { destination: destinations[0], weight: 100 - canary },
            { destination: destinations[1], weight: canary },
          ],
        },
      ],
    },
  } as KubeObject;
}

const destinationRule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: NS },
  spec: {
    host: 'reviews',
    subsets: [
      { name: 'canary', labels: { app: 'reviews', 'rollouts-pod-template-hash': CANARY_HASH } },
      { name: 'stable', labels: { app: 'reviews', 'rollouts-pod-template-hash': STABLE_HASH } },
    ],
  },
} as KubeObject;

const mapping = (name: string, service: string, weight?: number) =>
  ({
    apiVersion: 'getambassador.io/v2',
    kind: 'Mapping',
    metadata: { name, namespace: NS },
    spec: { prefix: '/checkout/', service, ...(weight === undefined ? {} : { weight }) },
  }) as KubeObject;

const istioEvent = (traffic: Partial<Extract<RolloutEventDetail['traffic'], { router: 'istio' }>>) =>
  rolloutEvent({
    traffic: { router: 'istio', virtualServices: [{ name: 'reviews', routes: ['primary'] }], ...traffic },
  });

/** A running scenario: its routers, how to move its traffic, how to stop it. */
interface Stage {
  routers: Routers;
  setCanary(canary: number): void;
  close(): Promise<void>;
}

interface Scenario {
  /** The read the fault is put on. */
  read: string;
  kind: 'get' | 'list';
  match: (request: ProxiedRequest) => boolean;
  event: RolloutEventDetail;
  /** Seeds the cluster with its traffic at `canary` and builds the routers on `api`. */
  stage(kube: KubeSim, api: KubeApi, canary: number): Promise<Stage>;
}

const meshStage =
  (objects: (canary: number) => KubeObject[], routers: (api: KubeApi) => Routers) =>
  async (kube: KubeSim, api: KubeApi, canary: number): Promise<Stage> => {
    for (const object of objects(canary)) kube.put(object);
    return {
      routers: routers(api),
      setCanary: (weight) => {
        for (const object of objects(weight)) kube.put(object);
      },
      close: async () => undefined,
    };
  };

const istio = (api: KubeApi): Routers => routersFrom([istioRouter(async () => api)]);
const ambassador = (api: KubeApi): Routers => routersFrom([ambassadorRouter(async () => api)]);

const SCENARIOS: Scenario[] = [
  {
    read: 'Istio: GET the VirtualService',
    kind: 'get',
    match: getOf('/virtualservices/reviews'),
    event: istioEvent({ stableService: 'reviews', canaryService: 'reviews-canary' }),
    stage: meshStage((canary) => [virtualService(canary, 'host')], istio),
  },
  {
    read: 'Istio: GET the DestinationRule',
    kind: 'get',
    match: getOf('/destinationrules/reviews'),
    event: istioEvent({
      destinationRule: { name: 'reviews', canarySubsetName: 'canary', stableSubsetName: 'stable' },
    }),
    stage: meshStage((canary) => [virtualService(canary, 'subset'), destinationRule], istio),
  },
  {
    read: "Istio: list the Services' EndpointSlices (VirtualService not bound to the mesh)",
    kind: 'list',
    match: getOf('/endpointslices'),
    event: istioEvent({ stableService: 'reviews', canaryService: 'reviews-canary' }),
    stage: meshStage(
      (canary) => [
        virtualService(canary, 'host', ['istio-system/public-gateway']),
        // In-mesh callers split by ready pods: 1 of 5 is the step's 20 %.
        endpointSlice('reviews-a', 'reviews', ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4']),
        endpointSlice('reviews-canary-a', 'reviews-canary', ['10.0.2.1']),
      ],
      istio,
    ),
  },
  ...(['checkout', 'checkout-canary'] as const).map(
    (name): Scenario => ({
      read: `Ambassador: GET the ${name === 'checkout' ? 'base' : 'canary'} Mapping`,
      kind: 'get',
      match: getOf(`/mappings/${name}`),
      event: rolloutEvent({
        traffic: {
          router: 'ambassador',
          mappings: ['checkout'],
          stableService: 'checkout',
          canaryService: 'checkout-canary',
        },
      }),
      stage: meshStage(
        (canary) => [
          mapping('checkout', 'checkout:80'),
          mapping('checkout-canary', 'checkout-canary:80', canary),
        ],
        ambassador,
      ),
    }),
  ),
  {
    read: "ALB: list the Services' EndpointSlices (registrations)",
    kind: 'list',
    match: getOf('/endpointslices'),
    event: rolloutEvent(),
    async stage(kube, api, canary) {
      const elb: Elbv2Sim = await startElbv2Sim({ rateLimit: false });
      const alb = elb.addIngressAlb({
        cluster: 'prod',
        namespace: NS,
        ingress: 'checkout',
        stableService: 'checkout',
        canaryService: 'checkout-canary',
        servicePort: 80,
        canaryWeight: canary,
        targets: { stable: 3, canary: 1 },
      });
      kube.put(service('checkout'));
      kube.put(service('checkout-canary'));
      kube.put(endpointSlice('checkout-a', 'checkout', alb.stableTargetIds));
      kube.put(endpointSlice('checkout-canary-a', 'checkout-canary', alb.canaryTargetIds));
      const elbApi = createElbApi({ region: 'eu-west-1', endpoint: elb.endpoint });
      return {
        routers: routersFrom([albRouter(elbApi, async () => api)]),
        setCanary: (weight) =>
          elb.setRuleWeights(alb.ruleArns[0]!, {
            [alb.canaryTargetGroupArn]: weight,
            [alb.stableTargetGroupArn]: 100 - weight,
          }),
        close: () => elb.close(),
      };
    },
  },
];

let certificates: ClusterCertificates;
beforeAll(async () => {
  certificates = await generateClusterCertificates();
});

/** The API fake behind a TLS fault proxy (same certificate, so the client trusts only the fake's CA). */
async function proxiedCluster(objects: KubeObject[] = []) {
  const kube = await startKubeSim({ certificates, objects });
  const proxy = await startFaultProxy({
    upstream: kube.url,
    tls: { keyPem: certificates.keyPem, certPem: certificates.certPem },
    upstreamCaPem: kube.caPem,
  });
  const api = new HttpsKubeApi(
    { server: proxy.url, caPem: kube.caPem, token: async () => kube.token },
    KUBE_CLIENT,
  );
  return {
    kube,
    proxy,
    api,
    async close() {
      api.close();
      await proxy.close();
      await kube.close();
    },
  };
}

/**
 * One case: the cluster at the step's weights (before the first look) or lagging at 0 — and,
 * after convergence, at the step's weights once the first look is done; the fault armed from the
 * start or right after the first look.
 */
async function runCase(
  scenario: Scenario,
  fault: KubeWireFault,
  timing: Timing,
  deadlineSeconds: number,
): Promise<FaultOutcome> {
  const cluster = await proxiedCluster();
  const lagging = timing !== 'before the first look';
  const stage = await scenario.stage(cluster.kube, cluster.api, lagging ? 0 : 20);
  const arm = () => {
    cluster.proxy.inject({ match: scenario.match, fault: kubeWireFault(fault, scenario.kind) });
    if (timing === 'after convergence') stage.setCanary(20);
  };
  if (!lagging) arm();
  try {
    const verdict = await verifyRollout({ ...scenario.event, deadlineSeconds }, stage.routers, {
      ...CONVERGE,
      onAttempt: ({ attempt }) => {
        if (lagging && attempt === 1) arm();
      },
    });
    return { verdict, proxy: cluster.proxy };
  } finally {
    await stage.close();
    await cluster.close();
  }
}

function expectFaultIsNotAVerdict(
  expect: ExpectStatic,
  { verdict, starved }: FaultOutcome & { starved?: string },
  fault: KubeWireFault,
  timing: Timing,
): void {
  const findings = verdict.findings
    .map(
      (finding) =>
        `${finding.code}${finding.earlierObservation ? ` (observation ${finding.earlierObservation.attempt})` : ''}: ${finding.message}`,
    )
    .join(', ');
  expect(starved, `${findings} [attempts ${verdict.attempts}, ${verdict.durationMs} ms]`).toBeUndefined();
  expect(verdict.verdict, findings).toBe('Inconclusive');
  expect(
    verdict.findings.filter(isObservationGap).map((finding) => finding.code),
    findings,
  ).toContain(expectedFindingCode(fault));
  const definite = verdict.findings.filter((finding) => !isUnobservable(finding));
  if (timing === 'before the first look') {
    // The cluster is right: nothing definite can be seen, whatever the fault hides.
    expect(definite, findings).toEqual([]);
    expect(verdict.evidence?.complete, 'no complete observation').not.toBe(true);
  } else {
    // The lagging first look was complete: its mismatch is kept, marked as coming from it.
    expect(
      definite.filter((finding) => finding.earlierObservation?.attempt === 1).map((finding) => finding.code),
      findings,
    ).toContain('WeightMismatch');
    if (verdict.evidence?.attempt !== 1) expect(verdict.evidence?.complete).toBe(false);
  }
}

describe('Kubernetes faults on the wire never become verdicts', () => {
  const cases = SCENARIOS.flatMap((scenario) =>
    KUBE_WIRE_FAULTS.flatMap((fault) => TIMINGS.map((timing) => ({ scenario, fault, timing }))),
  );

  it('covers every read × every fault × each timing', ({ expect }) => {
    expect(cases).toHaveLength(6 * 8 * 3);
  });

  describe.concurrent('Inconclusive, naming the fault, the last complete observation kept as earlier evidence', () => {
    cases.forEach(({ scenario, fault, timing }, index) => {
      it(`${scenario.read}, ${fault}, ${timing}`, { timeout: CASE_TIMEOUT_MS }, async ({ expect }) => {
        await staggeredStart(index, CONCURRENCY, FIRST_DEADLINE_SECONDS * 1000);
        const outcome = await runUnstarved(
          (deadlineSeconds) => runCase(scenario, fault, timing, deadlineSeconds),
          expectedFindingCode(fault),
          timing,
        );
        expectFaultIsNotAVerdict(expect, outcome, fault, timing);
      });
    });
  });
});

describe.concurrent('genuine answers through the same proxy still decide', () => {
  async function verdictOf(
    scenario: Scenario,
    canary: number,
    seed: (kube: KubeSim) => void = () => undefined,
  ) {
    const cluster = await proxiedCluster();
    const stage = await scenario.stage(cluster.kube, cluster.api, canary);
    seed(cluster.kube);
    try {
      return await verifyRollout(
        { ...scenario.event, deadlineSeconds: FIRST_DEADLINE_SECONDS },
        stage.routers,
        CONVERGE,
      );
    } finally {
      await stage.close();
      await cluster.close();
    }
  }
  const [virtualServiceRead, , , , canaryMappingRead, registrations] = SCENARIOS as [
    Scenario,
    Scenario,
    Scenario,
    Scenario,
    Scenario,
    Scenario,
  ];

  it('Istio: a wrong split in a complete last observation is Failed', async ({ expect }) => {
    const verdict = await verdictOf(virtualServiceRead, 0);
    expect(verdict.verdict).toBe('Failed');
    expect(verdict.findings.map((finding) => [finding.code, finding.earlierObservation])).toEqual([
      ['WeightMismatch', undefined],
    ]);
  });

  it("Ambassador: the API server's own 404 (a Status) means the canary Mapping is absent: Failed", async ({
    expect,
  }) => {
    const cluster = await proxiedCluster([mapping('checkout', 'checkout:80')]);
    try {
      const verdict = await verifyRollout(
        { ...canaryMappingRead.event, deadlineSeconds: FIRST_DEADLINE_SECONDS },
        ambassador(cluster.api),
        CONVERGE,
      );
      expect(verdict.verdict).toBe('Failed');
      expect(verdict.findings.map((finding) => finding.code)).toEqual([
        'WeightMismatch',
        'CanaryMappingMissing',
      ]);
    } finally {
      await cluster.close();
    }
  });

  it('ALB: a ready pod the controller has not registered is Failed', async ({ expect }) => {
    const verdict = await verdictOf(registrations, 20, (kube) =>
      kube.put(endpointSlice('checkout-canary-b', 'checkout-canary', ['10.9.9.9'])),
    );
    expect(verdict.verdict).toBe('Failed');
    expect(verdict.findings.map((finding) => finding.code)).toEqual(['TargetNotRegistered']);
  });

  it.for(SCENARIOS.map((scenario) => [scenario.read, scenario] as const))(
    '%s: the same cluster without a fault is Succeeded',
    async ([, scenario], { expect }) => {
      const verdict = await verdictOf(scenario, 20);
      expect(verdict).toMatchObject({ verdict: 'Succeeded', findings: [] });
    },
  );
});
