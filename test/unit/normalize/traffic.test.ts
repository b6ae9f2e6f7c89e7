import { describe, expect, it } from 'vitest';
import { NotificationRollout } from '../../../lambdas/core/normalize/notification-body.js';
import { buildTraffic, unsupportedRouters } from '../../../lambdas/core/normalize/traffic.js';
import { blueGreenRollout, canaryRollout, fixture } from './rollout-builder.js';

const rolloutOf = (name: string) => NotificationRollout.parse(fixture(name).rollout);

const ARN = {
  lb: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-checkout-3a7c9e21f4/5e1b2c3d4f5a6b7c',
  canaryTg:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-9c2e41d7aa/0a1b2c3d4e5f6a7b',
  stableTg:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-2f7b8e0c13/1b2c3d4e5f6a7b8c',
};

describe('buildTraffic', () => {
  it('ALB with a single ingress and no recorded ARNs', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('alb-step-completed-setweight'))).toEqual({
      router: 'alb',
      ingresses: [{ ingress: 'checkout' }],
      stableService: 'checkout-stable',
      canaryService: 'checkout-canary',
      rootService: 'checkout-root',
      servicePort: 80,
    });
  });

  it('ALB with the ARNs Argo recorded in status.alb', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('alb-status-arns'))).toMatchObject({
      router: 'alb',
      ingresses: [
        {
          ingress: 'checkout',
          loadBalancerArn: ARN.lb,
          loadBalancerName: 'k8s-shop-checkout-3a7c9e21f4',
          canaryTargetGroupArn: ARN.canaryTg,
          stableTargetGroupArn: ARN.stableTg,
        },
      ],
    });
  });

  it('ALB with several ingresses: deduplicated in order, status.albs matched by ingress name', () => {
    const traffic = buildTraffic('on-rollout-step-completed', rolloutOf('alb-multiple-ingresses'));
    expect(traffic).toMatchObject({ router: 'alb', servicePort: 8080 });
    if (traffic.router !== 'alb') throw new Error('expected the ALB router');
    expect(traffic.ingresses.map((ref) => ref.ingress)).toEqual(['checkout-public', 'checkout-internal']);
    expect(traffic.ingresses[0]).toEqual({ ingress: 'checkout-public' });
    expect(traffic.ingresses[1]).toEqual({
      ingress: 'checkout-internal',
      loadBalancerArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-checkoutint-51d0a7be22/9f8e7d6c5b4a3921',
      loadBalancerName: 'k8s-shop-checkoutint-51d0a7be22',
      canaryTargetGroupArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-b41d09ee3c/4c3b2a1908f7e6d5',
      stableTargetGroupArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-0e9f3a6c71/7a6b5c4d3e2f1a0b',
    });
  });

  it('ALB ingress plus ingresses: the single ingress first, duplicates once', () => {
    const rollout = canaryRollout({
      routing: {
        alb: { ingress: 'b-ingress', ingresses: ['a-ingress', 'b-ingress', 'c-ingress'], servicePort: 80 },
      },
    });
    const traffic = buildTraffic('on-rollout-step-completed', rollout);
    if (traffic.router !== 'alb') throw new Error('expected the ALB router');
    expect(traffic.ingresses.map((ref) => ref.ingress)).toEqual(['b-ingress', 'a-ingress', 'c-ingress']);
    expect(traffic).not.toHaveProperty('rootService');
  });

  it('status.alb without an ingress name belongs to the only ingress; invalid ARNs are dropped', () => {
    const body = fixture('alb-status-arns');
    const alb = (body.rollout.status as Record<string, Record<string, unknown>>).alb as Record<
      string,
      unknown
    >;
    delete alb.ingress;
    (alb.stableTargetGroup as Record<string, unknown>).arn = '';
    (alb.loadBalancer as Record<string, unknown>).arn = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc';
    const traffic = buildTraffic('on-rollout-step-completed', NotificationRollout.parse(body.rollout));
    if (traffic.router !== 'alb') throw new Error('expected the ALB router');
    expect(traffic.ingresses).toEqual([
      {
        ingress: 'checkout',
        loadBalancerName: 'k8s-shop-checkout-3a7c9e21f4',
        canaryTargetGroupArn: ARN.canaryTg,
      },
    ]);
  });

  it('Istio with a VirtualService and a DestinationRule', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('istio-paused'))).toEqual({
      router: 'istio',
      virtualServices: [{ name: 'reviews-vsvc', routes: ['primary'] }],
      destinationRule: { name: 'reviews-destrule', canarySubsetName: 'canary', stableSubsetName: 'stable' },
      stableService: 'reviews-stable',
      canaryService: 'reviews-canary',
    });
  });

  it('Istio virtualServices: <name>.<namespace> split, TLS routes kept, duplicates once', () => {
    const rollout = canaryRollout({
      routing: {
        istio: {
          virtualService: { name: 'reviews-vsvc', routes: ['primary'] },
          virtualServices: [
            { name: 'reviews-vsvc', routes: ['primary'] },
            {
              name: 'reviews-mesh.mesh-gateways',
              tlsRoutes: [{ port: 443, sniHosts: ['reviews.example.com'] }],
            },
          ],
        },
      },
    });
    expect(buildTraffic('on-rollout-step-completed', rollout)).toEqual({
      router: 'istio',
      virtualServices: [
        { name: 'reviews-vsvc', routes: ['primary'] },
        {
          name: 'reviews-mesh',
          namespace: 'mesh-gateways',
          tlsRoutes: [{ port: 443, sniHosts: ['reviews.example.com'] }],
        },
      ],
      stableService: 'checkout-stable',
      canaryService: 'checkout-canary',
    });
  });

  it('Ambassador mappings', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('ambassador-step-completed'))).toEqual({
      router: 'ambassador',
      mappings: ['echo-mapping', 'echo-grpc-mapping'],
      stableService: 'echo-stable',
      canaryService: 'echo-canary',
    });
  });

  it('ALB wins when several routers are configured', () => {
    const rollout = canaryRollout({
      routing: {
        alb: { ingress: 'checkout', servicePort: 80 },
        istio: { virtualService: { name: 'checkout' } },
      },
    });
    expect(buildTraffic('on-rollout-step-completed', rollout).router).toBe('alb');
  });

  it('none for a canary without traffic routing', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('canary-no-traffic-routing'))).toEqual({
      router: 'none',
    });
  });

  it('none with the services for blue-green', () => {
    expect(buildTraffic('on-rollout-step-completed', rolloutOf('bluegreen-paused-before-promotion'))).toEqual(
      {
        router: 'none',
        activeService: 'payments-active',
        previewService: 'payments-preview',
      },
    );
    const body = fixture('bluegreen-paused-before-promotion');
    const spec = body.rollout.spec as { strategy: { blueGreen: Record<string, unknown> } };
    delete spec.strategy.blueGreen.previewService;
    expect(buildTraffic('on-rollout-step-completed', NotificationRollout.parse(body.rollout))).toEqual({
      router: 'none',
      activeService: 'payments-active',
    });
    expect(buildTraffic('on-rollout-step-completed', blueGreenRollout())).toMatchObject({
      previewService: 'payments-preview',
    });
  });

  it('ALB for blue-green when the rollout names its ingresses: active = stable side, preview = canary side', () => {
    const body = fixture('bluegreen-paused-before-promotion');
    const metadata = body.rollout.metadata as { annotations: Record<string, string> };
    metadata.annotations['rollout-verifier.io/alb-ingresses'] = 'payments, payments-internal';
    metadata.annotations['rollout-verifier.io/alb-service-port'] = '8080';
    expect(buildTraffic('on-rollout-step-completed', NotificationRollout.parse(body.rollout))).toEqual({
      router: 'alb',
      ingresses: [{ ingress: 'payments' }, { ingress: 'payments-internal' }],
      stableService: 'payments-active',
      canaryService: 'payments-preview',
      servicePort: 8080,
    });
    delete metadata.annotations['rollout-verifier.io/alb-service-port'];
    expect(buildTraffic('on-rollout-step-completed', NotificationRollout.parse(body.rollout))).toMatchObject({
      router: 'alb',
      servicePort: 80,
    });
  });

  it.each([
    ['rollout-verifier.io/alb-ingresses', 'Payments'],
    ['rollout-verifier.io/alb-ingresses', ' , '],
    ['rollout-verifier.io/alb-service-port', '0'],
    ['rollout-verifier.io/alb-service-port', 'http'],
  ])('rejects the annotation %s: %j', (annotation, value) => {
    const body = fixture('bluegreen-paused-before-promotion');
    const metadata = body.rollout.metadata as { annotations: Record<string, string> };
    metadata.annotations['rollout-verifier.io/alb-ingresses'] = 'payments';
    metadata.annotations[annotation] = value;
    const result = NotificationRollout.safeParse(body.rollout);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.slice(0, 3)).toEqual(['metadata', 'annotations', annotation]);
  });

  it('none for a router the verifier does not observe, which unsupportedRouters names', () => {
    const rollout = canaryRollout({
      routing: { smi: { trafficSplitName: 'checkout' }, maxTrafficWeight: 100 },
    });
    expect(buildTraffic('on-rollout-step-completed', rollout)).toEqual({ router: 'none' });
    expect(unsupportedRouters(rollout.spec.strategy.canary)).toEqual(['smi']);
    expect(unsupportedRouters(canaryRollout().spec.strategy.canary)).toEqual([]);
  });
});
