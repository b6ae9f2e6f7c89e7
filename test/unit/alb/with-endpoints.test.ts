import { describe, expect, it } from 'vitest';
import { ClusterNotConfiguredError } from '../../../lambdas/core/cluster/cluster-apis.js';
import type { Observation, TargetObserver } from '../../../lambdas/core/observation.js';
import type { AlbObservationTarget } from '../../../lambdas/core/routers/alb/router.js';
import { withServiceEndpoints } from '../../../lambdas/core/routers/alb/with-endpoints.js';
import { KubeDouble } from '../../support/kube-double.js';
import { rolloutEvent } from '../../support/rollout-events.js';

const event = rolloutEvent();
const target = {
  namespace: 'shop',
  cluster: 'prod',
  traffic: event.traffic,
} as AlbObservationTarget;

const albOnly: TargetObserver<AlbObservationTarget> = {
  async observe(): Promise<Observation> {
    return { router: 'alb', routes: [], backends: [], problems: [] };
  },
};

function slice(service: string, endpoints: Array<[string, boolean | undefined]>, port = 8080) {
  return {
    metadata: {
      name: `${service}-abcde`,
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    // The Service port's name and the target port it resolves to on these pods.
    ports: [
      { name: 'metrics', port: 9090, protocol: 'TCP' },
      { name: 'http', port, protocol: 'TCP' },
    ],
    endpoints: endpoints.map(([address, ready]) => ({
      addresses: [address],
      conditions: ready === undefined ? {} : { ready },
    })),
  };
}

/** A Service whose port `servicePort` (the rollout's, 80 in the test event) is named `http`. */
function service(name: string) {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      ports: [
        { name: 'metrics', port: 9090, targetPort: 9090 },
        { name: 'http', port: 80, targetPort: 'http' },
      ],
    },
  };
}

const withServices = (kube: KubeDouble) =>
  kube
    .put('', 'services', 'shop', 'checkout', service('checkout'))
    .put('', 'services', 'shop', 'checkout-canary', service('checkout-canary'));

describe('withServiceEndpoints', () => {
  it('reads the pods only once the ALB has been read (its reads may wait for the Describe budget)', async () => {
    const kube = withServices(new KubeDouble());
    let albDone = false;
    const slowAlb: TargetObserver<AlbObservationTarget> = {
      async observe(): Promise<Observation> {
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(kube.requests).toEqual([]);
        albDone = true;
        return { router: 'alb', routes: [], backends: [], problems: [] };
      },
    };
    await withServiceEndpoints(slowAlb, async () => kube).observe(target);
    expect(albDone).toBe(true);
    expect(kube.requests.length).toBeGreaterThan(0);
  });

  it('adds the ready and not-ready pods of the stable and canary Services, across slices', async () => {
    const kube = withServices(new KubeDouble())
      .put(
        'discovery.k8s.io',
        'endpointslices',
        'shop',
        'checkout-abcde',
        slice('checkout', [['10.0.2.1', true]]),
      )
      .put(
        'discovery.k8s.io',
        'endpointslices',
        'shop',
        'checkout-canary-abcde',
        slice(
          'checkout-canary',
          [
            ['10.0.1.1', true],
            ['10.0.1.2', undefined],
            ['10.0.1.3', false],
          ],
          8443,
        ),
      );
    const observation = await withServiceEndpoints(albOnly, async () => kube).observe(target);

    expect(observation.endpoints).toEqual([
      {
        resource: 'service/shop/checkout',
        role: 'stable',
        ready: [{ address: '10.0.2.1', port: 8080 }],
        notReady: [],
      },
      // conditions.ready unset means ready (discovery.k8s.io/v1); the port is the named Service port's.
      {
        resource: 'service/shop/checkout-canary',
        role: 'canary',
        ready: [
          { address: '10.0.1.1', port: 8443 },
          { address: '10.0.1.2', port: 8443 },
        ],
        notReady: [{ address: '10.0.1.3', port: 8443 }],
      },
    ]);
    expect(observation.problems).toEqual([]);
  });

  it('a missing grant is an Inconclusive finding naming the ClusterRole, never a failure', async () => {
    const kube = withServices(new KubeDouble()).fail({ plural: 'endpointslices' }, 403);
    const observation = await withServiceEndpoints(albOnly, async () => kube).observe(target);

    expect(observation.endpoints).toEqual([]);
    expect(observation.problems).toEqual([
      expect.objectContaining({
        code: 'AccessDenied',
        resource: 'service/shop/checkout',
        missingPermission: 'list endpointslices.discovery.k8s.io',
        message: expect.stringContaining('ClusterRole "rollout-verifier-observer"'),
      }),
      expect.objectContaining({ code: 'AccessDenied', resource: 'service/shop/checkout-canary' }),
    ]);
  });

  it('a cluster the verifier was not given: weights and health only, no finding', async () => {
    const observation = await withServiceEndpoints(albOnly, async () => {
      throw new ClusterNotConfiguredError('not configured');
    }).observe(target);
    expect(observation).toMatchObject({ endpoints: [], problems: [] });
  });
});
