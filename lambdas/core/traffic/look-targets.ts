import type { VerdictEventDetail } from '../contracts/verdict-event.js';

/** One target group behind one load balancer: one pair of `AWS/ApplicationELB` dimensions. */
export interface TargetGroupOnLoadBalancer {
  role: 'canary' | 'stable';
  loadBalancerArn: string;
  targetGroupArn: string;
}

export interface LookTargets {
  /** The load balancer the findings name (the first, when the rollout's rules span several). */
  loadBalancerArn: string;
  pairs: TargetGroupOnLoadBalancer[];
}

/** A listener rule ARN names its load balancer: `…:listener-rule/app/<name>/<lb-id>/<listener-id>/<rule-id>`. */
const RULE_ARN =
  /^(arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}):listener-rule\/(app\/[^/]+\/[^/]+)\/[^/]+\/[^/]+$/;
const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[^/]+$/;

/** More would not fit one GetMetricData call's 500 queries at 3 queries each with room to spare. */
export const MAX_PAIRS = 40;

/**
 * What a configuration verdict says the traffic look must read: every (load balancer, target
 * group) pair its listener rules forward to, by role. A reason instead when there is nothing to
 * read (not an ALB verdict, no canary or no stable target group in the evidence).
 */
export function lookTargets(verdict: VerdictEventDetail): LookTargets | string {
  if (verdict.traffic.router !== 'alb')
    return `the traffic look reads ALB metrics; this rollout routes with ${verdict.traffic.router}`;
  const pairs = new Map<string, TargetGroupOnLoadBalancer>();
  for (const route of verdict.evidence?.routes ?? []) {
    const rule = RULE_ARN.exec(route.resource);
    if (!rule) continue;
    const loadBalancerArn = `${rule[1]}:loadbalancer/${rule[2]}`;
    for (const destination of route.destinations) {
      if (destination.role !== 'canary' && destination.role !== 'stable') continue;
      if (!TARGET_GROUP_ARN.test(destination.resource)) continue;
      pairs.set(`${loadBalancerArn} ${destination.resource}`, {
        role: destination.role,
        loadBalancerArn,
        targetGroupArn: destination.resource,
      });
    }
  }
  const all = [...pairs.values()].slice(0, MAX_PAIRS);
  const first = all[0];
  if (!first) return 'the verdict names no listener rule forwarding to canary or stable target groups';
  if (!all.some((pair) => pair.role === 'canary')) return 'the verdict names no canary target group';
  if (!all.some((pair) => pair.role === 'stable')) return 'the verdict names no stable target group';
  return { loadBalancerArn: first.loadBalancerArn, pairs: all };
}

/** The share of canary + stable the weights give the canary; undefined when both are 0. */
export function configuredCanaryShare(verdict: VerdictEventDetail): number | undefined {
  const { canaryWeight, stableWeight } = verdict.movedOn?.expected ?? verdict.expected;
  const total = canaryWeight + stableWeight;
  return total > 0 ? canaryWeight / total : undefined;
}
