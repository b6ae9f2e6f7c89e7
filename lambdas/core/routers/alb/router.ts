import type { Rule, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AlbTraffic } from '../../contracts/rollout-event.js';
import type { Finding } from '../../contracts/verdict-event.js';
import { MalformedResponseError } from '../../malformed-response.js';
import type {
  DestinationRole,
  Observation,
  ObservedBackend,
  ObservedRoute,
  ObservedTarget,
  ObserveOptions,
  TargetObserver,
  TargetState,
} from '../../observation.js';
import { DiscoveryError, discoverTopology, forwardTargets, type IngressTarget } from './discovery.js';
import type { ElbApi } from './elb-api.js';
import { findingFromError, isNotFound } from './errors.js';
import { type AlbTopology, TopologyCache } from './topology.js';

export interface AlbObservationTarget {
  namespace: string;
  cluster?: string;
  traffic: AlbTraffic;
}

/**
 * Observes an ALB-routed rollout. After discovery (cached per warm container) one observation
 * costs one DescribeRules for every rule of every ingress plus one DescribeTargetHealth per
 * target group: 3 requests for a single ingress, whatever the size of the account. With
 * `needsTargetHealth`, the rules are read first and target health only when the caller asks for
 * it (the same 3 requests one after the other, or 1 while the weights are still wrong).
 */
export class AlbRouter implements TargetObserver<AlbObservationTarget> {
  readonly name = 'alb';

  constructor(
    private readonly api: ElbApi,
    private readonly cache = new TopologyCache(),
  ) {}

  async observe(
    target: AlbObservationTarget,
    signal?: AbortSignal,
    options?: ObserveOptions,
  ): Promise<Observation> {
    const region = await this.api.region();
    try {
      return await this.observeOnce(target, region, signal, options);
    } catch (error) {
      if (isNotFound(error)) {
        // A rule or target group was replaced since discovery: forget it and look again, once.
        this.invalidate(target);
        try {
          return await this.observeOnce(target, region, signal, options);
        } catch (retryError) {
          return this.unobservable(target, region, retryError);
        }
      }
      return this.unobservable(target, region, error);
    }
  }

  private unobservable(target: AlbObservationTarget, region: string, error: unknown): Observation {
    const resource = `rollout/${target.namespace} ingress ${target.traffic.ingresses.map((ref) => ref.ingress).join(', ')}`;
    return {
      router: this.name,
      region,
      routes: [],
      backends: [],
      problems: [findingFromError(error, { resource, region })],
    };
  }

  invalidate(target: AlbObservationTarget): void {
    for (const ingress of target.traffic.ingresses) this.cache.delete(cacheKey({ ...target, ingress }));
  }

  private async observeOnce(
    target: AlbObservationTarget,
    region: string,
    signal?: AbortSignal,
    options?: ObserveOptions,
  ): Promise<Observation> {
    const problems: Finding[] = [];
    const topologies: AlbTopology[] = [];
    const discovered = await Promise.allSettled(
      target.traffic.ingresses.map((ingress) => this.topology({ ...target, ingress }, signal)),
    );
    discovered.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        topologies.push(result.value);
        return;
      }
      const resource = `ingress/${target.namespace}/${target.traffic.ingresses[index]?.ingress}`;
      problems.push(
        result.reason instanceof DiscoveryError
          ? result.reason.finding
          : findingFromError(result.reason, { resource, region }),
      );
    });

    for (const topology of topologies.filter((candidate) => candidate.rules.length === 0)) {
      problems.push({
        code: 'NoRuleForwardsToRollout',
        resource: topology.loadBalancerArn,
        expected: 'a listener rule forwarding to the stable and canary target groups',
        observed: 'none',
        message: `no listener rule of ${topology.loadBalancerName} forwards to the target groups of ingress ${topology.ingress}: check the ingress's actions annotation`,
      });
    }

    const withRules = topologies.filter((topology) => topology.rules.length > 0);
    if (withRules.length === 0) return { router: this.name, region, routes: [], backends: [], problems };

    const targetGroups = uniqueTargetGroups(withRules);
    const ruleArns = withRules.flatMap((topology) => topology.rules.map((rule) => rule.ruleArn));
    const readHealth = () =>
      Promise.all(targetGroups.map((group) => this.api.targetHealth(group.arn, signal)));
    const needsTargetHealth = options?.needsTargetHealth;
    let rules: Rule[];
    let healths: TargetHealthDescription[][];
    if (needsTargetHealth) {
      rules = await this.api.rulesByArn(ruleArns, signal);
      const routesOnly: Observation = {
        router: this.name,
        region,
        routes: toRoutes(withRules, rules),
        backends: [],
        problems,
        routesOnly: true,
      };
      if (!(await needsTargetHealth(routesOnly))) return routesOnly;
      healths = await readHealth();
    } else {
      [rules, healths] = await Promise.all([this.api.rulesByArn(ruleArns, signal), readHealth()]);
    }
    const routes = toRoutes(withRules, rules);
    // Target groups weighted beside the two sides (an experiment step's Services) serve the weight
    // they carry: their health is read too, once the rules show them, so a Succeeded verdict has
    // seen every target group that carries weight.
    const experimentGroups = weightedStrangers(routes);
    const experimentHealths = await Promise.all(
      experimentGroups.map((arn) => this.api.targetHealth(arn, signal)),
    );

    return {
      router: this.name,
      region,
      routes,
      backends: [
        ...targetGroups.map((group, index) => ({
          resource: group.arn,
          role: group.role,
          targets: (healths[index] ?? []).map(toTarget),
        })),
        ...experimentGroups.map((arn, index) => ({
          resource: arn,
          role: 'experiment' as const,
          targets: (experimentHealths[index] ?? []).map(toTarget),
        })),
      ],
      problems,
    };
  }

  private async topology(target: IngressTarget, signal?: AbortSignal): Promise<AlbTopology> {
    const key = cacheKey(target);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const topology = await discoverTopology(this.api, target, signal);
    // Without rules there is nothing to re-read by ARN: look again next time.
    if (topology.rules.length > 0) this.cache.set(key, topology);
    return topology;
  }
}

function cacheKey(target: IngressTarget): string {
  const { ingress, traffic } = target;
  return [
    target.cluster ?? '',
    target.namespace,
    ingress.ingress,
    ingress.loadBalancerArn ?? ingress.loadBalancerName ?? '',
    ingress.stableTargetGroupArn ?? '',
    ingress.canaryTargetGroupArn ?? '',
    traffic.stableService,
    traffic.canaryService,
    traffic.servicePort,
  ].join('|');
}

function uniqueTargetGroups(
  topologies: AlbTopology[],
): Array<{ arn: string; role: ObservedBackend['role'] }> {
  const groups = new Map<string, ObservedBackend['role']>();
  for (const topology of topologies) {
    groups.set(topology.stableTargetGroupArn, 'stable');
    if (topology.canaryTargetGroupArn) groups.set(topology.canaryTargetGroupArn, 'canary');
  }
  return [...groups].map(([arn, role]) => ({ arn, role }));
}

function toRoutes(topologies: AlbTopology[], rules: Rule[]): ObservedRoute[] {
  const byArn = new Map(rules.map((rule) => [rule.RuleArn, rule]));
  return topologies.flatMap((topology) =>
    topology.rules.map((ref) => {
      const rule = byArn.get(ref.ruleArn);
      // ElbApi.rulesByArn already refuses such an answer: a rule must never silently drop out of view.
      if (!rule) throw new MalformedResponseError('ELBv2 DescribeRules', `no answer for ${ref.ruleArn}`);
      return {
        resource: ref.ruleArn,
        description: ref.description,
        destinations: forwardTargets(rule).map((forward) => ({
          resource: forward.targetGroupArn,
          role: roleOf(topology, forward.targetGroupArn),
          weight: forward.weight,
        })),
      };
    }),
  );
}

/** Target groups some rule sends weight to that are neither side of the rollout. */
function weightedStrangers(routes: ObservedRoute[]): string[] {
  const arns = routes.flatMap((route) =>
    route.destinations
      .filter((destination) => destination.role === 'unknown' && destination.weight > 0)
      .map((destination) => destination.resource),
  );
  return [...new Set(arns)];
}

function roleOf(topology: AlbTopology, targetGroupArn: string): DestinationRole {
  if (targetGroupArn === topology.canaryTargetGroupArn) return 'canary';
  if (targetGroupArn === topology.stableTargetGroupArn) return 'stable';
  return 'unknown';
}

function toTarget(description: TargetHealthDescription): ObservedTarget {
  return {
    id: description.Target?.Id ?? '',
    port: description.Target?.Port,
    state: (description.TargetHealth?.State ?? 'unavailable') as TargetState,
    reason: description.TargetHealth?.Reason,
    description: description.TargetHealth?.Description,
  };
}
