import { describe, expect, it } from 'vitest';
import { ClusterNotConfiguredError } from '../../../lambdas/core/cluster/cluster-apis.js';
import type { Observation, Router } from '../../../lambdas/core/observation.js';
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

const albOnly: Router<AlbObservationTarget> = {
  name: 'alb',
  async observe(): Promise<Observation> {
    return { router: 'alb', routes: [], backends: [], problems: [] };
  },
};

function slice(service: string, endpoints: Array<[string, boolean | undefined]>) {
  return {
    metadata: {
      name: `${service}-abcde`,
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map(([address, ready]) => ({
      addresses: [address],
      conditions: ready === undefined ? {} : { ready },
    })),
  };
}

describe('withServiceEndpoints', () => {
  it('adds the ready and not-ready pods of the stable and canary Services, across slices', async () => {
    const kube = new KubeDouble()
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
        slice('checkout-canary', [
          ['10.0.1.1', true],
          ['10.0.1.2', undefined],
          ['10.0.1.3', false],
        ]),
      );
    const observation = await withServiceEndpoints(albOnly, async () => kube).observe(target);

    expect(observation.endpoints).toEqual([
      { resource: 'service/shop/checkout', role: 'stable', ready: ['10.0.2.1'], notReady: [] },
      // conditions.ready unset means ready (discovery.k8s.io/v1).
      {
        resource: 'service/shop/checkout-canary',
        role: 'canary',
        ready: ['10.0.1.1', '10.0.1.2'],
        notReady: ['10.0.1.3'],
      },
    ]);
    expect(observation.problems).toEqual([]);
  });

  it('a missing grant is an Inconclusive finding naming the ClusterRole, never a failure', async () => {
    const kube = new KubeDouble().fail({ plural: 'endpointslices' }, 403);
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
