import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsStub } from 'aws-sdk-client-mock';
import { ingressLoadBalancerName } from '../../lambdas/core/routers/alb/naming.js';

/** shop/checkout's load balancer in cluster prod, as the AWS Load Balancer Controller would name and tag it. */
export const CHECKOUT_LB_NAME = ingressLoadBalancerName('prod', 'shop', 'checkout', 'internet-facing');
export const CHECKOUT_LB = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${CHECKOUT_LB_NAME}/1`;
export const CHECKOUT_STABLE_TG =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-1/a';
export const CHECKOUT_CANARY_TG =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-checkout-2/b';
export const CHECKOUT_RULE = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/${CHECKOUT_LB_NAME}/1/l/r`;
export const CHECKOUT_ARN_FLAGS = [
  '--load-balancer-arn',
  CHECKOUT_LB,
  '--stable-target-group-arn',
  CHECKOUT_STABLE_TG,
  '--canary-target-group-arn',
  CHECKOUT_CANARY_TG,
];

type ElbStub = AwsStub<ServiceInputTypes, ServiceOutputTypes, ElasticLoadBalancingV2ClientResolvedConfig>;

/** Answers every ELBv2 read for shop/checkout: one HTTPS rule at the given split, one target per side. */
export function mockCheckoutAlb(
  elb: ElbStub,
  {
    canary,
    stable,
    canaryState = 'healthy',
  }: { canary: number; stable: number; canaryState?: TargetHealthStateEnum },
): void {
  const rule = {
    RuleArn: CHECKOUT_RULE,
    Priority: '1',
    Actions: [
      {
        Type: 'forward' as const,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: CHECKOUT_CANARY_TG, Weight: canary },
            { TargetGroupArn: CHECKOUT_STABLE_TG, Weight: stable },
          ],
        },
      },
    ],
  };
  elb.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [{ LoadBalancerArn: CHECKOUT_LB, LoadBalancerName: CHECKOUT_LB_NAME }],
  });
  elb.on(DescribeTargetGroupsCommand).resolves({
    TargetGroups: [
      { TargetGroupArn: CHECKOUT_STABLE_TG, TargetGroupName: 'k8s-shop-checkout-1' },
      { TargetGroupArn: CHECKOUT_CANARY_TG, TargetGroupName: 'k8s-shop-checkout-2' },
    ],
  });
  elb.on(DescribeTagsCommand).resolves({
    TagDescriptions: [
      {
        ResourceArn: CHECKOUT_STABLE_TG,
        Tags: [{ Key: 'ingress.k8s.aws/resource', Value: 'shop/checkout-checkout:80' }],
      },
      {
        ResourceArn: CHECKOUT_CANARY_TG,
        Tags: [{ Key: 'ingress.k8s.aws/resource', Value: 'shop/checkout-checkout-canary:80' }],
      },
    ],
  });
  elb
    .on(DescribeListenersCommand)
    .resolves({ Listeners: [{ ListenerArn: `${CHECKOUT_LB}/l`, Protocol: 'HTTPS', Port: 443 }] });
  elb.on(DescribeRulesCommand).resolves({ Rules: [rule] });
  elb.on(DescribeTargetHealthCommand, { TargetGroupArn: CHECKOUT_STABLE_TG }).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: '10.0.1.1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
    ],
  });
  elb.on(DescribeTargetHealthCommand, { TargetGroupArn: CHECKOUT_CANARY_TG }).resolves({
    TargetHealthDescriptions: [
      {
        Target: { Id: '10.0.2.1', Port: 8080 },
        TargetHealth: {
          State: canaryState,
          Reason: canaryState === 'unhealthy' ? 'Target.Timeout' : undefined,
        },
      },
    ],
  });
}
