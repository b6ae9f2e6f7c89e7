import type { LoadBalancer, Rule, TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AlbIngressRef, AlbTraffic } from '../../contracts/rollout-event.js';
import type { Finding } from '../../contracts/verdict-event.js';
import type { ElbApi } from './elb-api.js';
import { isNotFound } from './errors.js';
import {
  CLUSTER_TAGS,
  ingressLoadBalancerName,
  LOAD_BALANCER_SCHEMES,
  loadBalancerNameFromArn,
  TARGET_GROUP_RESOURCE_TAGS,
  targetGroupNamePrefix,
  targetGroupResourceId,
} from './naming.js';
import type { AlbRuleRef, AlbTopology } from './topology.js';

export interface IngressTarget {
  namespace: string;
  cluster?: string;
  ingress: AlbIngressRef;
  traffic: AlbTraffic;
}

/** Discovery ended without an answer; the finding says what was searched and where. */
export class DiscoveryError extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
    this.name = 'DiscoveryError';
  }
}

/**
 * Finds the load balancer, target groups and listener rules of one ingress, cheapest path first:
 * 1. ARNs Argo recorded in `status.alb` (no lookup at all);
 * 2. the load balancer name the controller derives from cluster, ingress and scheme (one call);
 * 3. the target groups named after the services, confirmed by the controller's resource tag —
 *    pages target groups 400 at a time, never DescribeTags on every load balancer.
 */
export async function discoverTopology(
  api: ElbApi,
  target: IngressTarget,
  signal?: AbortSignal,
): Promise<AlbTopology> {
  const requestsBefore = api.requestCount;
  const region = await api.region();
  const sides = await findTargetGroups(api, target, region, signal);
  const rules = await findRules(api, sides.loadBalancer, sides, signal);
  return {
    ingress: `${target.namespace}/${target.ingress.ingress}`,
    loadBalancerArn: sides.loadBalancer.arn,
    loadBalancerName: sides.loadBalancer.name,
    stableTargetGroupArn: sides.stable,
    canaryTargetGroupArn: sides.canary,
    rules,
    discoveryRequests: api.requestCount - requestsBefore,
  };
}

interface Sides {
  loadBalancer: { arn: string; name: string };
  stable: string;
  canary?: string;
}

async function findTargetGroups(
  api: ElbApi,
  target: IngressTarget,
  region: string,
  signal?: AbortSignal,
): Promise<Sides> {
  const { ingress } = target;
  if (ingress.loadBalancerArn && ingress.stableTargetGroupArn) {
    return {
      loadBalancer: { arn: ingress.loadBalancerArn, name: loadBalancerNameFromArn(ingress.loadBalancerArn) },
      stable: ingress.stableTargetGroupArn,
      canary: ingress.canaryTargetGroupArn,
    };
  }
  const loadBalancer = await findLoadBalancerByName(api, target, signal);
  if (loadBalancer?.LoadBalancerArn) {
    const groups = await api.targetGroupsOfLoadBalancer(loadBalancer.LoadBalancerArn, signal);
    const sides = await matchSides(api, target, groups, signal);
    if (sides.stable) {
      return {
        loadBalancer: { arn: loadBalancer.LoadBalancerArn, name: loadBalancer.LoadBalancerName ?? '' },
        stable: sides.stable.TargetGroupArn!,
        canary: sides.canary?.TargetGroupArn,
      };
    }
  }
  return await scanTargetGroups(api, target, region, signal);
}

async function findLoadBalancerByName(
  api: ElbApi,
  target: IngressTarget,
  signal?: AbortSignal,
): Promise<LoadBalancer | undefined> {
  const names = target.ingress.loadBalancerName
    ? [target.ingress.loadBalancerName]
    : target.cluster
      ? LOAD_BALANCER_SCHEMES.map((scheme) =>
          ingressLoadBalancerName(target.cluster!, target.namespace, target.ingress.ingress, scheme),
        )
      : [];
  // One name per call: DescribeLoadBalancers fails as a whole when any of the names is unknown.
  for (const name of names) {
    try {
      const [found] = await api.loadBalancersByName([name], signal);
      if (found) return found;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return undefined;
}

async function scanTargetGroups(
  api: ElbApi,
  target: IngressTarget,
  region: string,
  signal?: AbortSignal,
): Promise<Sides> {
  const prefixes = [target.traffic.stableService, target.traffic.canaryService].map((service) =>
    targetGroupNamePrefix(target.namespace, service),
  );
  const candidates: TargetGroup[] = [];
  for await (const page of api.allTargetGroups(signal)) {
    candidates.push(
      ...page.filter((group) => prefixes.some((prefix) => group.TargetGroupName?.startsWith(prefix))),
    );
  }
  const sides = await matchSides(api, target, candidates, signal);
  const loadBalancerArn = sides.stable?.LoadBalancerArns?.[0];
  if (!sides.stable || !loadBalancerArn) {
    throw new DiscoveryError({
      code: 'ResourceNotFound',
      resource: `ingress/${target.namespace}/${target.ingress.ingress}`,
      expected: `a target group tagged ${TARGET_GROUP_RESOURCE_TAGS[0]}=${resourceId(target, target.traffic.stableService)}${sides.stable ? ' used by a load balancer' : ''}`,
      observed: sides.stable ? 'target group not used by any load balancer' : 'none',
      message: `no load balancer of ingress ${target.namespace}/${target.ingress.ingress} was found in ${region}${target.cluster ? ` for cluster ${target.cluster}` : ''}: is the region right, and has the AWS Load Balancer Controller reconciled the ingress?`,
    });
  }
  return {
    loadBalancer: { arn: loadBalancerArn, name: loadBalancerNameFromArn(loadBalancerArn) },
    stable: sides.stable.TargetGroupArn!,
    canary: sides.canary?.TargetGroupArn,
  };
}

/** Picks the stable and canary target groups by the controller's resource tag (and cluster tag when known). */
async function matchSides(
  api: ElbApi,
  target: IngressTarget,
  groups: TargetGroup[],
  signal?: AbortSignal,
): Promise<{ stable?: TargetGroup; canary?: TargetGroup }> {
  const prefixes = [target.traffic.stableService, target.traffic.canaryService].map((service) =>
    targetGroupNamePrefix(target.namespace, service),
  );
  const named = groups.filter((group) =>
    prefixes.some((prefix) => group.TargetGroupName?.startsWith(prefix)),
  );
  // Target groups the controller did not name (TargetGroupBinding users) are still worth a tag look.
  const candidates = named.length > 0 ? named : groups;
  const arns = candidates.map((group) => group.TargetGroupArn).filter((arn): arn is string => Boolean(arn));
  if (arns.length === 0) return {};
  const tags = await api.tags(arns, signal);
  const sideOf = (service: string) =>
    candidates.find((group) => {
      const groupTags = tags.get(group.TargetGroupArn ?? '') ?? {};
      const clusterTag = CLUSTER_TAGS.map((key) => groupTags[key]).find(Boolean);
      if (target.cluster && clusterTag && clusterTag !== target.cluster) return false;
      return TARGET_GROUP_RESOURCE_TAGS.some((key) => groupTags[key] === resourceId(target, service));
    });
  return { stable: sideOf(target.traffic.stableService), canary: sideOf(target.traffic.canaryService) };
}

function resourceId(target: IngressTarget, service: string): string {
  return targetGroupResourceId(target.namespace, target.ingress.ingress, service, target.traffic.servicePort);
}

/**
 * The listener rules that split the rollout's traffic: those forwarding to both its target groups
 * (Argo's action annotation always lists both, the canary at weight 0 between steps). A rule
 * forwarding to one side alone is a route of its own by design — a host or path that reaches only
 * the stable or canary Service (Argo's rootService pattern), or a managed header route sending
 * matching requests to the canary — and carries no step weight. Until the canary target group
 * exists, rules forwarding to the stable one are the split.
 */
async function findRules(
  api: ElbApi,
  loadBalancer: { arn: string; name: string },
  sides: Sides,
  signal?: AbortSignal,
): Promise<AlbRuleRef[]> {
  const listeners = await api.listeners(loadBalancer.arn, signal);
  const perListener = await Promise.all(
    listeners.map(async (listener) => {
      const rules = await api.rulesOfListener(listener.ListenerArn!, signal);
      return rules
        .filter((rule) => splitsTraffic(rule, sides))
        .map((rule) => ({
          ruleArn: rule.RuleArn!,
          description: describeRule(rule, `${listener.Protocol}:${listener.Port}`, loadBalancer.name),
        }));
    }),
  );
  return perListener.flat();
}

function splitsTraffic(rule: Rule, sides: Sides): boolean {
  const groups = new Set(forwardTargets(rule).map((target) => target.targetGroupArn));
  return groups.has(sides.stable) && (sides.canary === undefined || groups.has(sides.canary));
}

export function forwardTargets(rule: Rule): Array<{ targetGroupArn: string; weight: number }> {
  return (rule.Actions ?? [])
    .filter((action) => action.Type === 'forward')
    .flatMap((action) => {
      const weighted = action.ForwardConfig?.TargetGroups ?? [];
      if (weighted.length > 0) {
        // A lone target group without a weight takes all the traffic.
        return weighted.map((group) => ({
          targetGroupArn: group.TargetGroupArn ?? '',
          weight: group.Weight ?? (weighted.length === 1 ? 1 : 0),
        }));
      }
      return action.TargetGroupArn ? [{ targetGroupArn: action.TargetGroupArn, weight: 1 }] : [];
    });
}

function describeRule(rule: Rule, listener: string, loadBalancerName: string): string {
  const conditions = (rule.Conditions ?? [])
    .map((condition) => {
      const values =
        condition.HostHeaderConfig?.Values ?? condition.PathPatternConfig?.Values ?? condition.Values ?? [];
      return `${condition.Field} ${values.join('|')}`;
    })
    .join(', ');
  const priority = rule.IsDefault ? 'default rule' : `rule priority ${rule.Priority}`;
  return `listener ${priority} on ${listener} of ${loadBalancerName}${conditions ? ` (${conditions})` : ''}`;
}
