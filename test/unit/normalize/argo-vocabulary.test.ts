import { describe, expect, it } from 'vitest';
import { deriveExpectedState } from '../../../lambdas/core/normalize/expected-state.js';
import { buildTraffic } from '../../../lambdas/core/normalize/traffic.js';
import { canaryRollout, STEPS } from './rollout-builder.js';

/**
 * Argo Rollouts' canary vocabulary beyond setWeight and pause, each case from the controller's
 * documented behaviour (rollout/trafficrouting.go reconcileTrafficRouting, utils/replicaset/canary.go,
 * rollout/trafficrouting/alb, the CRD v1.9.1): what the verifier must expect at the event.
 */

const EXPERIMENT_STEPS = [
  { setWeight: 20 },
  {
    experiment: {
      duration: '5m',
      templates: [
        { name: 'baseline', specRef: 'stable', weight: 10 },
        { name: 'candidate', specRef: 'canary', weight: 5, service: { name: 'checkout-candidate' } },
        { name: 'unweighted', specRef: 'canary' },
      ],
    },
  },
  { setWeight: 50 },
  { pause: {} },
];

describe('experiment steps with weighted templates', () => {
  it('step-completed before the experiment: the running experiment is a state the rollout reaches on its own', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({ steps: EXPERIMENT_STEPS, index: 0, updated: 2, weights: [20, 80] }),
    );
    expect(expected).toMatchObject({ canaryWeight: 20, stableWeight: 80 });
    expect(expected.additional).toBeUndefined();
    expect(expected.successors[0]).toEqual({
      canaryWeight: 20,
      stableWeight: 65,
      additional: [
        { weight: 10, template: 'baseline' },
        { weight: 5, template: 'candidate', service: 'checkout-candidate' },
      ],
      reason: 'experiment at step 1 running',
    });
    // After the experiment the weight returns to the stable side, then the next setWeight follows.
    expect(expected.successors.slice(1).map((state) => [state.canaryWeight, state.stableWeight])).toEqual([
      [50, 50],
    ]);
  });

  it('while the experiment runs: its Services carry their weight, out of the stable side', () => {
    const { expected } = deriveExpectedState(
      'live',
      canaryRollout({
        steps: EXPERIMENT_STEPS,
        index: 1,
        updated: 2,
        weights: [20, 65],
        additional: [10, 5],
      }),
    );
    expect(expected).toMatchObject({
      canaryWeight: 20,
      stableWeight: 65,
      additional: [
        { weight: 10, service: 'checkout-experiment-0' },
        { weight: 5, service: 'checkout-experiment-1' },
      ],
    });
    expect(expected.successors[0]).toMatchObject({
      canaryWeight: 20,
      stableWeight: 80,
      reason: 'experiment finished',
    });
  });

  it('the experiment step completed: the weight is back on the stable side', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({
        steps: EXPERIMENT_STEPS,
        index: 1,
        updated: 2,
        weights: [20, 65],
        additional: [10, 5],
      }),
    );
    expect(expected).toMatchObject({ canaryWeight: 20, stableWeight: 80 });
    expect(expected.additional).toBeUndefined();
  });
});

describe('dynamicStableScale: the weights Argo walks through on its own', () => {
  it('abort: anything from the weight last applied down to 0', () => {
    const { expected, aborted } = deriveExpectedState(
      'on-rollout-aborted',
      canaryRollout({ index: 2, updated: 4, weights: [40, 60], dynamicStableScale: true }),
    );
    expect(aborted).toBe(true);
    expect(expected).toMatchObject({
      canaryWeight: 0,
      stableWeight: 100,
      transition: { minCanaryWeight: 0, maxCanaryWeight: 40 },
    });
    expect(expected.derivation).toMatch(/steps down to 0 as the stable ReplicaSet scales back up/);
  });

  it('abort without dynamicStableScale: 0 at once, no range', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-aborted',
      canaryRollout({ index: 2, updated: 4, weights: [40, 60] }),
    );
    expect(expected.transition).toBeUndefined();
    expect(expected.canaryWeight).toBe(0);
  });

  it('full promotion: from the weight last applied up to maxTrafficWeight, then promoted', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-resumed',
      canaryRollout({ index: 1, updated: 4, weights: [20, 80], promoteFull: true, dynamicStableScale: true }),
    );
    expect(expected).toMatchObject({
      canaryWeight: 20,
      transition: { minCanaryWeight: 20, maxCanaryWeight: 100 },
    });
    expect(expected.successors).toEqual([{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }]);
  });

  it('a new revision mid-rollout: the old weight holds until the scaled-down stable can take it all', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-updated',
      canaryRollout({ index: 2, updated: 4, weights: [40, 60], dynamicStableScale: true, revision: '6' }),
    );
    expect(expected).toMatchObject({
      canaryWeight: 0,
      transition: { minCanaryWeight: 0, maxCanaryWeight: 40 },
    });
  });

  it('rollback to the stable revision: the abandoned canary’s weight steps down to 0', () => {
    const { expected } = deriveExpectedState(
      'live',
      canaryRollout({
        index: 4,
        stableRS: 'stable1',
        currentPodHash: 'stable1',
        appliedCanaryHash: 'canary1',
        weights: [40, 60],
        dynamicStableScale: true,
      }),
    );
    expect(expected).toMatchObject({
      canaryWeight: 0,
      transition: { minCanaryWeight: 0, maxCanaryWeight: 40 },
    });
  });

  it('fully promoted without a rollback in flight: canary 0, no range', () => {
    const { expected } = deriveExpectedState(
      'live',
      canaryRollout({
        index: 8,
        stableRS: 'canary1',
        currentPodHash: 'canary1',
        weights: [0, 100],
        dynamicStableScale: true,
      }),
    );
    expect(expected.transition).toBeUndefined();
    expect(expected.canaryWeight).toBe(0);
  });
});

describe('replicaProgressThreshold (v1.9)', () => {
  // setWeight 40 at step 2 wants 4 of 10 replicas; 3 are available (75 %).
  const atThreeOfFour = { steps: STEPS, index: 2, replicas: 10, updated: 4, total: 14, available: 13 };

  it('without a threshold the previous weight holds until all 4 are available', () => {
    const { expected } = deriveExpectedState('on-rollout-resumed', canaryRollout(atThreeOfFour));
    expect(expected.canaryWeight).toBe(20);
    expect(expected.successors[0]).toMatchObject({ canaryWeight: 40 });
  });

  it('Percent 75: 3 of 4 available moves the weight, and 3 healthy targets suffice', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-resumed',
      canaryRollout({ ...atThreeOfFour, replicaProgressThreshold: { type: 'Percent', value: 75 } }),
    );
    expect(expected).toMatchObject({ canaryWeight: 40, minHealthyCanaryTargets: 3 });
    expect(expected.derivation).toMatch(/replicaProgressThreshold 75 %/);
  });

  it('Pods 2: 2 available pods move the weight', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-resumed',
      canaryRollout({ ...atThreeOfFour, replicaProgressThreshold: { type: 'Pods', value: 2 } }),
    );
    expect(expected).toMatchObject({ canaryWeight: 40, minHealthyCanaryTargets: 2 });
  });

  it('Percent 100 behaves like no threshold', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-resumed',
      canaryRollout({ ...atThreeOfFour, replicaProgressThreshold: { type: 'Percent', value: 100 } }),
    );
    expect(expected.canaryWeight).toBe(20);
  });
});

describe('a rollout scaled to 0 replicas', () => {
  it('keeps its weights but needs no healthy targets on either side', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({ index: 0, replicas: 0, updated: 0, weights: [20, 80] }),
    );
    expect(expected).toMatchObject({
      canaryWeight: 20,
      stableWeight: 80,
      minHealthyCanaryTargets: 0,
      minHealthyStableTargets: 0,
      replicas: 0,
    });
  });
});

describe('maxTrafficWeight: any int32 Argo accepts', () => {
  it('10000: a setWeight of 2500 is a quarter', () => {
    const { expected } = deriveExpectedState(
      'on-rollout-step-completed',
      canaryRollout({
        steps: [{ setWeight: 2500 }, { pause: {} }],
        index: 0,
        updated: 3,
        routing: { maxTrafficWeight: 10000, nginx: { stableIngress: 'checkout' } },
      }),
    );
    expect(expected).toMatchObject({ canaryWeight: 2500, stableWeight: 7500, maxWeight: 10000 });
  });
});

describe('live: the Rollout as the API server holds it now', () => {
  it('paused at an indefinite pause: the last setWeight, and nothing moves on its own', () => {
    const rollout = canaryRollout({
      index: 1,
      updated: 2,
      pauseReasons: ['CanaryPauseStep'],
      weights: [20, 80],
    });
    const { expected, step } = deriveExpectedState('live', rollout);
    expect(expected).toMatchObject({ canaryWeight: 20, successors: [] });
    expect(step.index).toBe(1);
  });

  it('progressing towards a setWeight whose replicas are not ready: the previous weight, the step’s next', () => {
    const rollout = canaryRollout({ index: 2, updated: 3, total: 13, available: 12, weights: [20, 80] });
    const live = deriveExpectedState('live', rollout).expected;
    expect(live.canaryWeight).toBe(20);
    expect(live.successors[0]).toMatchObject({ canaryWeight: 40, reason: 'setWeight at step 2' });
    // The notification recipe would have read step 2 as completed and expected its weight already.
    expect(deriveExpectedState('on-rollout-step-completed', rollout).expected.canaryWeight).toBe(40);
  });

  it('aborted: all traffic on the stable side', () => {
    const { expected, aborted } = deriveExpectedState(
      'live',
      canaryRollout({ index: 2, updated: 4, abort: true, weights: [0, 100] }),
    );
    expect(aborted).toBe(true);
    expect(expected).toMatchObject({ canaryWeight: 0, stableWeight: 100 });
  });

  it('completed: fully promoted, canary 0', () => {
    const { expected } = deriveExpectedState(
      'live',
      canaryRollout({ index: 8, stableRS: 'canary1', currentPodHash: 'canary1', weights: [0, 100] }),
    );
    expect(expected).toMatchObject({ canaryWeight: 0, stableWeight: 100, successors: [] });
  });
});

describe('ping-pong (ALB)', () => {
  const pingPong = { pingService: 'checkout-ping', pongService: 'checkout-pong' };
  const routing = { alb: { ingress: 'checkout', servicePort: 80, rootService: 'checkout-root' } };

  it('stablePingPong ping: ping is stable, pong the canary', () => {
    const traffic = buildTraffic(
      'on-rollout-step-completed',
      canaryRollout({ pingPong, routing, stablePingPong: 'ping', index: 0, updated: 2 }),
    );
    expect(traffic).toMatchObject({
      router: 'alb',
      stableService: 'checkout-ping',
      canaryService: 'checkout-pong',
      pingPong,
    });
  });

  it('stablePingPong pong (or not yet set): pong is stable', () => {
    for (const stablePingPong of ['pong', undefined] as const) {
      const traffic = buildTraffic(
        'on-rollout-paused',
        canaryRollout({ pingPong, routing, ...(stablePingPong ? { stablePingPong } : {}), index: 1 }),
      );
      expect(traffic).toMatchObject({ stableService: 'checkout-pong', canaryService: 'checkout-ping' });
    }
  });

  it('a first revision (no stable ReplicaSet yet) settles with ping stable: its completion swaps the empty value to ping', () => {
    const rollout = canaryRollout({ pingPong, routing, index: 0 });
    const { stableRS: _stableRS, ...status } = rollout.status;
    for (const trigger of ['on-rollout-updated', 'on-rollout-completed'] as const) {
      const traffic = buildTraffic(trigger, { ...rollout, status });
      expect(traffic).toMatchObject({ stableService: 'checkout-ping', canaryService: 'checkout-pong' });
    }
  });

  it('on-rollout-completed carries the roles from before the promotion swaps them', () => {
    const traffic = buildTraffic(
      'on-rollout-completed',
      canaryRollout({ pingPong, routing, stablePingPong: 'ping', index: 8, updated: 10 }),
    );
    // pong served the canary at 100 %: after the swap it is the stable side and keeps all traffic.
    expect(traffic).toMatchObject({ stableService: 'checkout-pong', canaryService: 'checkout-ping' });
  });

  it('ignores the target groups status.alb recorded: they follow an earlier reconcile’s roles', () => {
    const rollout = canaryRollout({ pingPong, routing, stablePingPong: 'ping', index: 0, updated: 2 });
    const arn = (kind: string, name: string) =>
      `arn:aws:elasticloadbalancing:eu-west-1:123456789012:${kind}/${name}/0123456789abcdef`;
    rollout.status.alb = {
      ingress: 'checkout',
      loadBalancer: { arn: arn('loadbalancer/app', 'k8s-shop-checkout-1'), name: 'k8s-shop-checkout-1' },
      canaryTargetGroup: { arn: arn('targetgroup', 'k8s-shop-ping') },
      stableTargetGroup: { arn: arn('targetgroup', 'k8s-shop-pong') },
    };
    const traffic = buildTraffic('on-rollout-step-completed', rollout);
    expect(traffic).toMatchObject({
      ingresses: [{ ingress: 'checkout', loadBalancerName: 'k8s-shop-checkout-1' }],
    });
    expect(traffic.router === 'alb' && traffic.ingresses[0]?.canaryTargetGroupArn).toBe(undefined);
  });
});

describe('managed routes and additional subsets (Istio)', () => {
  it('carries managedRoutes names and additionalSubsetNames into the event', () => {
    const traffic = buildTraffic(
      'on-rollout-step-completed',
      canaryRollout({
        index: 0,
        routing: {
          managedRoutes: [{ name: 'header-route' }, { name: 'mirror-route' }],
          istio: {
            virtualService: { name: 'checkout', routes: ['primary'] },
            destinationRule: {
              name: 'checkout',
              canarySubsetName: 'canary',
              stableSubsetName: 'stable',
              additionalSubsetNames: ['experiment'],
            },
          },
        },
      }),
    );
    expect(traffic).toMatchObject({
      router: 'istio',
      managedRoutes: ['header-route', 'mirror-route'],
      destinationRule: { additionalSubsetNames: ['experiment'] },
    });
  });
});
