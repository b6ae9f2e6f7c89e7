import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import { type CloudWatchSim, putAlbMinute } from '../sim/cloudwatch.js';
import type { Elbv2Sim } from '../sim/elbv2/index.js';

/**
 * What the demo's load balancers serve while a step holds, as CloudWatch would count it: every
 * minute, `requestsPerMinute` requests spread over each rule's target groups by the weights the
 * rule carried when the step was verified, unless the profile skews the canary's share
 * (stickiness, slow start, client retries), with each side's 5xx rate and latency.
 */
export interface TrafficProfile {
  requestsPerMinute: number;
  /** The canary share the ALB really serves, given the share its rules configure. Default: the configured one. */
  servedCanaryShare?: (configuredShare: number) => number;
  canary5xxRate?: number;
  stable5xxRate?: number;
  /** Mean target response time (seconds). */
  canaryLatencySeconds?: number;
  stableLatencySeconds?: number;
}

/** A busy, healthy service: what every rollout without a profile of its own serves. */
export const DEFAULT_PROFILE: TrafficProfile = {
  requestsPerMinute: 600,
  canary5xxRate: 0.002,
  stable5xxRate: 0.002,
  canaryLatencySeconds: 0.05,
  stableLatencySeconds: 0.05,
};

const MINUTE = 60_000;

/**
 * Puts the minutes from `from` to `to` (ms) of every rule the verdict names into the CloudWatch
 * simulator; returns a line for the timeline.
 */
export function serveStep(
  cloudwatch: Pick<CloudWatchSim, 'put'>,
  elb: Elbv2Sim,
  verdict: VerdictEventDetail,
  profile: TrafficProfile,
  from: number,
  to: number,
): string {
  let served = { canary: 0, stable: 0 };
  for (const route of verdict.evidence?.routes ?? []) {
    const rule = elb.account.rules.get(route.resource);
    const listener = rule ? elb.account.listeners.get(rule.listenerArn) : undefined;
    if (!listener) continue;
    const weights = Object.fromEntries(
      route.destinations.map((destination) => [destination.resource, destination.weight]),
    );
    const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
    const roleOf = (arn: string) =>
      route.destinations.find((destination) => destination.resource === arn)?.role;
    const canaryArn = Object.keys(weights).find((arn) => roleOf(arn) === 'canary');
    const stableArn = Object.keys(weights).find((arn) => roleOf(arn) === 'stable');
    if (!canaryArn || !stableArn || total === 0) continue;
    const configured =
      (weights[canaryArn] ?? 0) / ((weights[canaryArn] ?? 0) + (weights[stableArn] ?? 0) || 1);
    const share = profile.servedCanaryShare?.(configured) ?? configured;
    // Rules share the requests: a rollout behind HTTP and HTTPS listeners gets half on each.
    const perRule = profile.requestsPerMinute / (verdict.evidence?.routes.length ?? 1);
    for (let at = Math.floor(from / MINUTE) * MINUTE; at < to; at += MINUTE) {
      const canary = Math.round(perRule * share);
      const stable = Math.round(perRule) - canary;
      putAlbMinute(cloudwatch, listener.loadBalancerArn, canaryArn, {
        at,
        requests: canary,
        errors5xx: Math.round(canary * (profile.canary5xxRate ?? 0)),
        latencySeconds: profile.canaryLatencySeconds,
      });
      putAlbMinute(cloudwatch, listener.loadBalancerArn, stableArn, {
        at,
        requests: stable,
        errors5xx: Math.round(stable * (profile.stable5xxRate ?? 0)),
        latencySeconds: profile.stableLatencySeconds,
      });
      served = { canary: served.canary + canary, stable: served.stable + stable };
    }
  }
  const minutes = Math.round((to - Math.floor(from / MINUTE) * MINUTE) / MINUTE);
  return `the ALB serves the step for ${minutes} simulated minutes: canary ${served.canary}, stable ${served.stable} requests (CloudWatch AWS/ApplicationELB)`;
}
