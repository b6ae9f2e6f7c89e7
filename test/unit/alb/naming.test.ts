import { describe, expect, it } from 'vitest';
import {
  ingressLoadBalancerName,
  loadBalancerNameFromArn,
  targetGroupNamePrefix,
  targetGroupResourceId,
} from '../../../lambdas/core/routers/alb/naming.js';

describe('AWS Load Balancer Controller naming', () => {
  // Expected values computed independently: sha256(cluster + "ns/name" + scheme)[:10] in Python's hashlib.
  it.each([
    ['prod', 'shop', 'checkout', 'internet-facing', 'k8s-shop-checkout-6a9e5045c4'],
    ['prod', 'my-team', 'storefront-web', 'internal', 'k8s-myteam-storefro-88499ddfc2'],
  ] as const)('names the load balancer of %s %s/%s (%s)', (cluster, namespace, ingress, scheme, name) => {
    expect(ingressLoadBalancerName(cluster, namespace, ingress, scheme)).toBe(name);
  });

  it('keeps load balancer names within the 32-character limit', () => {
    expect(
      ingressLoadBalancerName('c', 'a-very-long-namespace', 'an-even-longer-ingress', 'internal'),
    ).toHaveLength(32);
  });

  it('derives target group prefixes and resource ids the way the controller tags them', () => {
    expect(targetGroupNamePrefix('my-team', 'checkout-canary')).toBe('k8s-myteam-checkout-');
    expect(targetGroupResourceId('shop', 'checkout', 'checkout-canary', 80)).toBe(
      'shop/checkout-checkout-canary:80',
    );
  });

  it('reads the name out of a load balancer ARN', () => {
    expect(
      loadBalancerNameFromArn(
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-checkout-6a9e5045c4/50dc6c495c0c9188',
      ),
    ).toBe('k8s-shop-checkout-6a9e5045c4');
  });
});
