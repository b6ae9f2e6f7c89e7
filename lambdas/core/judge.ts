import type { Expected, TrafficState } from './contracts/rollout-event.js';
import {
  type Finding,
  type FindingCode,
  UNOBSERVABLE_FINDING_CODES,
  type Verdict,
} from './contracts/verdict-event.js';
import { judgeRegistrations } from './judge-registrations.js';
import type {
  Observation,
  ObservedBackend,
  ObservedMappingPair,
  ObservedMeshBypass,
  ObservedRoute,
  ObservedRouteSelection,
  ObservedSubset,
  TargetState,
} from './observation.js';

/**
 * The rules, in one pure function: what the rollout expects against what a router saw.
 * A Failed judgement is provisional (the caller re-observes until its deadline); a `final`
 * one will not change by waiting.
 */
export interface Judgement {
  verdict: Verdict;
  findings: Finding[];
  /** No later observation can change this judgement: stop polling. */
  final: boolean;
  /**
   * The observation saw everything the verdict needs (no AccessDenied, throttling, timeout,
   * malformed answer…): only a complete observation may end Succeeded or Failed.
   */
  complete: boolean;
}

const UNOBSERVABLE: ReadonlySet<FindingCode> = new Set<FindingCode>(UNOBSERVABLE_FINDING_CODES);

/** Waiting cannot fix these: a missing permission or an unsupported setup stays so for the deadline. */
const FINAL: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'AccessDenied',
  'RolloutMovedOn',
  'UnsupportedTrafficRouting',
]);

/** Targets the ALB sends traffic to. `unavailable` means health checks are off: the ALB routes to them. */
const ROUTABLE: ReadonlySet<TargetState> = new Set<TargetState>(['healthy', 'unavailable']);

export function judge(expected: Expected, observation: Observation): Judgement {
  const split = judgeSplit(expected, observation.routes);
  if (split.movedOn) return conclude([...observation.problems, split.movedOn], observation);
  const findings = [
    ...observation.problems,
    ...split.findings,
    ...judgeBackends(expected, observation),
    ...judgeRegistrations(observation, (backend) => backendWeight(observation, backend) > 0),
    ...judgeMeshRouting(expected, observation),
  ];
  if (split.ambiguous && findings.every((finding) => SPLIT_CODES.has(finding.code))) {
    return conclude([...observation.problems, split.ambiguous], observation);
  }
  return conclude(findings, observation);
}

export function isUnobservable(finding: Finding): boolean {
  return UNOBSERVABLE.has(finding.code);
}

/**
 * Evidence rules (issue 11 §1). Succeeded only on a complete observation that saw at least one
 * route (and, where the router reads target health, the health of every target group carrying
 * weight). Failed only on a complete observation with a definite finding. An observation with
 * any gap — AccessDenied, throttling, timeouts, malformed answers, an unreachable cluster — is
 * Inconclusive whatever else it shows: its definite findings stay in the judgement as evidence,
 * but the verifier never acts on what it could not see.
 */
function conclude(findings: Finding[], observation: Observation): Judgement {
  const all = findings.length === 0 ? unobservedParts(observation) : findings;
  if (all.length === 0) return { verdict: 'Succeeded', findings: all, final: true, complete: true };
  const gaps = all.filter(isObservationGap);
  const definite = all.some((finding) => !isUnobservable(finding));
  if (gaps.length > 0) {
    // Waiting cannot lift a missing permission; anything else may clear before the deadline.
    return { verdict: 'Inconclusive', findings: all, final: gaps.some(isFinal), complete: false };
  }
  return {
    verdict: definite ? 'Failed' : 'Inconclusive',
    findings: all,
    final: !definite && all.some(isFinal),
    complete: true,
  };
}

const isFinal = (finding: Finding): boolean => FINAL.has(finding.code);

/** Unobservable codes that are conclusions about a complete observation, not gaps in it. */
const DECISIONS: ReadonlySet<FindingCode> = new Set<FindingCode>(['RolloutMovedOn', 'AmbiguousState']);

/** Something the observation could not see: it is incomplete, whatever it did see. */
export function isObservationGap(finding: Finding): boolean {
  return isUnobservable(finding) && !DECISIONS.has(finding.code);
}

/**
 * What an observation without findings still failed to see: a router that reports no route at all
 * has verified nothing (a rule list lost in a malformed answer must never read as "all good"), and
 * one that reads target health must have read it for every target group that carries weight.
 */
function unobservedParts(observation: Observation): Finding[] {
  if (observation.routes.length === 0) {
    return [
      {
        code: 'ObservationError',
        resource: `${observation.router} routes`,
        expected: 'a route',
        observed: 'none',
        message: `the ${observation.router} observation saw no route and gave no reason: nothing was verified`,
      },
    ];
  }
  if (observation.backends.length === 0) return [];
  const observed = new Set(observation.backends.map((backend) => backend.resource));
  const unseen = new Set(
    observation.routes.flatMap((route) =>
      route.destinations
        .filter(({ role, weight, resource }) => role !== 'unknown' && weight > 0 && !observed.has(resource))
        .map(({ resource }) => resource),
    ),
  );
  return [...unseen].map((resource) => ({
    code: 'ObservationError',
    resource,
    expected: 'its target health',
    observed: 'not read',
    message: `${resource} carries weight, its target health was not read`,
  }));
}

interface SplitJudgement {
  findings: Finding[];
  /** Every route is at a state the rollout reaches on its own after the event. */
  movedOn?: Finding;
  /** Every route is at canary 0, which a later full promotion and a never-applied step both explain. */
  ambiguous?: Finding;
}

function judgeSplit(expected: Expected, routes: ObservedRoute[]): SplitJudgement {
  if (routes.length === 0) return { findings: [] };
  const findings = routes.flatMap((route) => judgeRoute(expected, route));
  if (!findings.some((finding) => finding.code === 'WeightMismatch')) return { findings };

  const successor = expected.successors.find((state) =>
    routes.every((route) => splitMatches(route, state, expected.maxWeight)),
  );
  if (!successor) return { findings };
  const observed = describeState(successor);
  if (successor.canaryWeight === 0) {
    return {
      findings,
      ambiguous: {
        code: 'AmbiguousState',
        resource: routes.map((route) => route.resource).join(', '),
        expected: describeState(expected),
        observed,
        message: `traffic is at ${observed}: either the step was never applied or the rollout was since ${successor.reason}; re-run after the rollout settles`,
      },
    };
  }
  return {
    findings,
    movedOn: {
      code: 'RolloutMovedOn',
      resource: routes.map((route) => route.resource).join(', '),
      expected: describeState(expected),
      observed,
      message: `the rollout moved on since the event: traffic is at ${observed} (${successor.reason})`,
    },
  };
}

function judgeRoute(expected: Expected, route: ObservedRoute): Finding[] {
  const findings: Finding[] = [];
  const canary = route.destinations.filter((destination) => destination.role === 'canary');
  const stable = route.destinations.filter((destination) => destination.role === 'stable');
  const strangers = route.destinations.filter(
    (destination) => destination.role === 'unknown' && destination.weight > 0,
  );

  for (const [role, present, wanted] of [
    ['canary', canary, expected.canaryWeight],
    ['stable', stable, expected.stableWeight],
  ] as const) {
    if (present.length === 0 && wanted > 0) {
      findings.push({
        code: 'TargetGroupMissing',
        resource: route.resource,
        expected: `${role} weight ${wanted}`,
        observed: 'absent',
        message: `${route.description} does not forward to the ${role} side, expected weight ${wanted}`,
      });
    }
  }
  for (const stranger of strangers) {
    findings.push({
      code: 'UnexpectedTargetGroup',
      resource: route.resource,
      expected: `weight 0 (${stranger.resource})`,
      observed: `weight ${stranger.weight} (${stranger.resource})`,
      message: `${route.description} sends weight ${stranger.weight} to ${stranger.resource}, which is neither the canary nor the stable side`,
    });
  }

  const observedState = shareOf(route, expected.maxWeight);
  if (!splitMatches(route, expected, expected.maxWeight)) {
    findings.push({
      code: 'WeightMismatch',
      resource: route.resource,
      expected: describeState(expected),
      observed: describeRaw(route),
      message: `${route.description}: ${describeRaw(route)}, expected ${describeState(expected)}${layerNote(expected, observedState)}${selectionNote(route)}`,
      layer: divergingLayer(expected, observedState),
    });
  }
  return findings;
}

/** The route's split, scaled to the rollout's max weight; undefined when nothing carries weight. */
function shareOf(route: ObservedRoute, maxWeight: number): TrafficState | undefined {
  const total = route.destinations.reduce((sum, destination) => sum + destination.weight, 0);
  if (total === 0) return undefined;
  const canary = sumWeight(route, 'canary');
  const stable = sumWeight(route, 'stable');
  return {
    canaryWeight: Math.round((canary * maxWeight) / total),
    stableWeight: Math.round((stable * maxWeight) / total),
  };
}

/**
 * ALB weights are 0–999 and relative: 20/80 and 200/800 are the same split. Compare ratios
 * exactly by cross-multiplying instead of rounding percentages.
 */
function splitMatches(route: ObservedRoute, state: TrafficState, maxWeight: number): boolean {
  const total = route.destinations.reduce((sum, destination) => sum + destination.weight, 0);
  if (total === 0) return false;
  return (
    sumWeight(route, 'canary') * maxWeight === state.canaryWeight * total &&
    sumWeight(route, 'stable') * maxWeight === state.stableWeight * total
  );
}

function sumWeight(route: ObservedRoute, role: 'canary' | 'stable'): number {
  return route.destinations
    .filter((destination) => destination.role === role)
    .reduce((sum, destination) => sum + destination.weight, 0);
}

function divergingLayer(expected: Expected, observed: TrafficState | undefined): Finding['layer'] {
  const applied = expected.controllerApplied;
  if (!applied || applied.canaryWeight === expected.canaryWeight) return 'load-balancer';
  if (observed && observed.canaryWeight === applied.canaryWeight) return 'argo-controller';
  return 'both';
}

function layerNote(expected: Expected, observed: TrafficState | undefined): string {
  const applied = expected.controllerApplied;
  switch (divergingLayer(expected, observed)) {
    case 'argo-controller':
      return ` — the route matches what Argo applied (canary ${applied?.canaryWeight}); the Argo controller has not applied the step's weight`;
    case 'both':
      return ` — Argo believes it applied canary ${applied?.canaryWeight}, and the route matches neither`;
    default:
      return applied
        ? ` — Argo applied canary ${applied.canaryWeight}; the route (load balancer or mesh) has not caught up`
        : '';
  }
}

/** The most any route sends to this backend. */
function backendWeight(observation: Observation, backend: ObservedBackend): number {
  return Math.max(
    0,
    ...observation.routes.flatMap((route) =>
      route.destinations
        .filter((destination) => destination.resource === backend.resource)
        .map((destination) => destination.weight),
    ),
  );
}

function judgeBackends(expected: Expected, observation: Observation): Finding[] {
  return observation.backends.flatMap((backend) => {
    if (backendWeight(observation, backend) === 0) return [];
    return judgeBackend(
      backend,
      backend.role === 'canary' ? expected.minHealthyCanaryTargets : expected.minHealthyStableTargets,
    );
  });
}

function judgeBackend(backend: ObservedBackend, minHealthy: number): Finding[] {
  const findings: Finding[] = [];
  const routable = backend.targets.filter((target) => ROUTABLE.has(target.state));
  const unhealthy = backend.targets.filter((target) => target.state === 'unhealthy');
  const required = Math.max(1, minHealthy);
  if (routable.length < required) {
    findings.push({
      code: 'InsufficientHealthyTargets',
      resource: backend.resource,
      expected: required,
      observed: routable.length,
      message: `the ${backend.role} target group carries weight with ${routable.length} healthy target(s), expected at least ${required} (${countStates(backend)})`,
    });
  }
  if (unhealthy.length > 0) {
    findings.push({
      code: 'UnhealthyTargets',
      resource: backend.resource,
      expected: 0,
      observed: unhealthy.length,
      message: `the ${backend.role} target group carries weight with unhealthy target(s): ${unhealthy
        .map(
          (target) =>
            `${target.id}${target.port ? `:${target.port}` : ''} (${target.reason ?? 'no reason given'})`,
        )
        .join(', ')}`,
    });
  }
  return findings;
}

export function countStates(backend: ObservedBackend): string {
  if (backend.targets.length === 0) return 'no registered targets';
  const counts = new Map<string, number>();
  for (const target of backend.targets) counts.set(target.state, (counts.get(target.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
}

export function describeState(state: TrafficState): string {
  return `canary ${state.canaryWeight} / stable ${state.stableWeight}`;
}

function describeRaw(route: ObservedRoute): string {
  return `canary ${sumWeight(route, 'canary')} / stable ${sumWeight(route, 'stable')}`;
}

// ── Mesh and gateway routers (Istio VirtualService, Ambassador Mapping) ──────────────────────────

/**
 * Findings a full promotion (canary 0 among the successors) explains as well as a never-applied
 * step: Argo deletes the canary Mapping at weight 0, and sidecars then reach stable pods only.
 */
const SPLIT_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'WeightMismatch',
  'CanaryMappingMissing',
  'MeshBypass',
]);

const ROUTES_FIELD = { http: 'routes', tls: 'tlsRoutes', tcp: 'tcpRoutes' } as const;

function judgeMeshRouting(expected: Expected, observation: Observation): Finding[] {
  return [
    ...(observation.routeSelections ?? []).flatMap(judgeRouteSelection),
    ...(observation.subsets ?? []).flatMap((subset) => judgeSubset(expected, subset)),
    ...(observation.meshBypass ? judgeMeshBypass(expected, observation.meshBypass) : []),
    ...(observation.mappings ?? []).flatMap((pair) => judgeMappingPair(expected, pair)),
  ];
}

/** Route selection the way the Rollout means it: named routes must exist; none named needs exactly one. */
function judgeRouteSelection(selection: ObservedRouteSelection): Finding[] {
  const kind = selection.protocol.toUpperCase();
  const field = `trafficRouting.istio.virtualService(s).${ROUTES_FIELD[selection.protocol]}`;
  const has = selection.available.length > 0 ? selection.available.join(', ') : 'none';
  const findings: Finding[] = selection.missing.map((route) => ({
    code: 'RouteNotFound',
    resource: selection.resource,
    expected: `${kind} route ${route}`,
    observed: `${kind} routes: ${has}`,
    message: `the rollout names ${kind} route ${route} in ${field}, but ${selection.resource} has no such route (its ${kind} routes: ${has}): Argo Rollouts cannot set that route's weights — fix the name in the rollout or in the VirtualService`,
  }));
  if (selection.requested.length === 0 && selection.candidates.length > 1) {
    findings.push({
      code: 'AmbiguousRoutes',
      resource: selection.resource,
      expected: `exactly one ${kind} route, or ${ROUTES_FIELD[selection.protocol]} naming them`,
      observed: `${selection.candidates.length} ${kind} routes: ${selection.candidates.join(', ')}`,
      message: `ambiguous: name the routes — ${selection.resource} has ${selection.candidates.length} ${kind} routes (${selection.candidates.join(', ')}) and the rollout names none in ${field}; Argo Rollouts sets weights only on the single route of a VirtualService when none is named, so none of these routes is verified (and older controllers leave them all untouched)`,
    });
  }
  if (selection.requested.length === 0 && selection.candidates.length === 0) {
    findings.push({
      code: 'RouteNotFound',
      resource: selection.resource,
      expected: 'an HTTP, TLS or TCP route to the stable and canary sides',
      observed: selection.available.length > 0 ? `${kind} routes: ${has}` : 'no routes',
      message: `${selection.resource} has no route the rollout could split: it names none in ${field}, and the VirtualService has no ${kind} route (nor a TLS/TCP route to the rollout's Services)`,
    });
  }
  return findings;
}

/** WeightMismatch wording for a route the verifier picked because it is the only one. */
function selectionNote(route: ObservedRoute): string {
  if (route.selectedBy !== 'only-route' || route.routeName === undefined) return '';
  return ` — the rollout names no routes and "${route.routeName}" is the VirtualService's only HTTP route: Argo Rollouts before v1.9 skips a single route that has a name (argo-rollouts #3884); name it in trafficRouting.istio.virtualService.routes or upgrade the controller`;
}

/**
 * The subsets Argo relabels with each side's pod template hash. The hashes are checked only mid-rollout
 * (both sides carry weight): at the ends the pre-transition snapshot may name the previous stable hash.
 */
function judgeSubset(expected: Expected, subset: ObservedSubset): Finding[] {
  const carries = subset.role === 'canary' ? expected.canaryWeight > 0 : expected.stableWeight > 0;
  if (!carries) return [];
  const name = subset.resource.slice(subset.resource.lastIndexOf('#') + 1);
  if (!subset.present) {
    return [
      {
        code: 'DestinationRuleSubsetMismatch',
        resource: subset.resource,
        expected: `subset ${name}`,
        observed: 'absent',
        message: `the DestinationRule has no subset "${name}", which the rollout's ${subset.role}SubsetName names: Istio answers 503 (no healthy upstream) for the ${subset.role} share of the traffic`,
      },
    ];
  }
  const wanted = subset.expectedPodTemplateHash;
  const midRollout = expected.canaryWeight > 0 && expected.stableWeight > 0;
  if (wanted === undefined || subset.podTemplateHash === wanted) return [];
  if (subset.role === 'stable' && !midRollout) return [];
  const observed = subset.podTemplateHash ?? 'no rollouts-pod-template-hash label';
  return [
    {
      code: 'DestinationRuleSubsetMismatch',
      resource: subset.resource,
      expected: `rollouts-pod-template-hash=${wanted}`,
      observed: subset.podTemplateHash === undefined ? observed : `rollouts-pod-template-hash=${observed}`,
      message: `subset "${name}" selects ${subset.podTemplateHash === undefined ? 'pods without regard to their ReplicaSet (no rollouts-pod-template-hash label)' : `the pods of ReplicaSet hash ${observed}`}, but the rollout's ${subset.role} side runs hash ${wanted}: the ${subset.role} weight reaches the wrong pods (Argo relabels the subsets at every step: check its UpdatedDestinationRule events)`,
    },
  ];
}

/**
 * Sidecars apply only VirtualServices bound to the `mesh` gateway. Without one, in-cluster callers
 * reach the pods by count, whatever the weights say: a finding when that split is not the expected one.
 */
function judgeMeshBypass(expected: Expected, bypass: ObservedMeshBypass): Finding[] {
  const pods = bypass.readyPods;
  if (!pods || pods.total === 0) return [];
  const where = bypass.resources.join(', ');
  const bound = `${where} ${bypass.resources.length > 1 ? 'are' : 'is'} bound only to gateway(s) ${bypass.gateways.join(', ')}, not to "mesh"`;
  const fix = 'add "mesh" to spec.gateways, or name a mesh-bound VirtualService in the rollout';
  if (pods.canary === undefined) {
    // Pods cannot be told apart: only a step between the ends is certainly not what sidecars do.
    if (expected.canaryWeight === 0 || expected.stableWeight === 0) return [];
    return [
      {
        code: 'MeshBypass',
        resource: where,
        expected: describeState(expected),
        observed: `${pods.total} ready pod(s) split by count`,
        message: `${bound}: in-cluster callers bypass its weights and split over the ${pods.total} ready pod(s) of ${bypass.countedFrom.join(', ')} by pod count, not ${describeState(expected)}; ${fix} (name canaryService and stableService in the rollout to measure the in-mesh split)`,
      },
    ];
  }
  if (pods.canary * expected.maxWeight === expected.canaryWeight * pods.total) return [];
  const percent = Math.round((pods.canary * 100) / pods.total);
  const stablePods = pods.total - pods.canary;
  return [
    {
      code: 'MeshBypass',
      resource: where,
      expected: describeState(expected),
      observed: `in-mesh canary ${pods.canary} / stable ${stablePods} ready pods (${percent} % canary)`,
      message: `${bound}: in-cluster callers bypass its weights and split by ready pods — canary ${pods.canary} of ${pods.total} (${percent} %) — while the step expects ${describeState(expected)}; ${fix}`,
    },
  ];
}

/** `[scheme://]name[.namespace…][:port][rest]`: an Ambassador Mapping's `service`. */
interface MappingService {
  scheme: string;
  name: string;
  /** What follows the Service name in the host: `.namespace`, `.namespace.svc.cluster.local`. */
  domain: string;
  port: string;
  rest: string;
}

function parseMappingService(service: string | undefined): MappingService | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)?([^:/?#\s]+)(:\d+)?(.*)$/i.exec(service?.trim() ?? '');
  if (!match) return undefined;
  const host = match[2] ?? '';
  const dot = host.indexOf('.');
  return {
    scheme: match[1] ?? '',
    name: dot < 0 ? host : host.slice(0, dot),
    domain: dot < 0 ? '' : host.slice(dot),
    port: match[3] ?? '',
    rest: match[4] ?? '',
  };
}

const formatMappingService = (service: MappingService): string =>
  `${service.scheme}${service.name}${service.domain}${service.port}${service.rest}`;

function judgeMappingPair(expected: Expected, pair: ObservedMappingPair): Finding[] {
  const findings: Finding[] = [];
  const base = parseMappingService(pair.baseService);
  if (!base || base.name !== pair.stableService) {
    findings.push({
      code: 'StableServiceNotInMapping',
      resource: pair.resource,
      expected: `a service naming ${pair.stableService}`,
      observed: pair.baseService ?? 'no spec.service',
      message: `base Mapping ${pair.resource} routes to ${pair.baseService === undefined ? 'no service' : `"${pair.baseService}"`}, which does not name the stable Service ${pair.stableService}: Argo clones the canary Mapping from it by replacing that name, so the canary share would silently go to the same backend as the base Mapping; point spec.service at ${pair.stableService} (keeping scheme, namespace and port)`,
    });
  } else if (pair.canary) {
    const wanted = formatMappingService({ ...base, name: pair.canaryService });
    if (pair.canary.service !== wanted) {
      const lost = mappingServiceDifferences(
        base,
        parseMappingService(pair.canary.service),
        pair.canaryService,
      );
      findings.push({
        code: 'CanaryMappingServiceMismatch',
        resource: pair.canaryResource,
        expected: wanted,
        observed: pair.canary.service ?? 'no spec.service',
        message: `canary Mapping ${pair.canaryResource} routes to ${pair.canary.service === undefined ? 'no service' : `"${pair.canary.service}"`}, expected "${wanted}" — the base Mapping's service with only the stable Service name replaced${lost.length > 0 ? `: ${lost.join(', ')}` : ''} (argo-rollouts #3593: older controllers drop the scheme and namespace when cloning; fix the canary Mapping or upgrade the controller)`,
      });
    }
  }
  if (!pair.canary && expected.canaryWeight > 0) {
    findings.push({
      code: 'CanaryMappingMissing',
      resource: pair.canaryResource,
      expected: `a canary Mapping with weight ${expected.canaryWeight}`,
      observed: 'absent',
      message: `canary Mapping ${pair.canaryResource} does not exist, so Ambassador sends everything to ${pair.resource}${pair.baseWeight ? `; the base Mapping sets weight ${pair.baseWeight}, and Argo refuses to clone a Mapping that has one` : ''} (Argo creates it at the first setWeight: check the rollout's events for AmbassadorMappingNotFound, AmbassadorMappingConfigError or CanaryMappingCreationError)`,
    });
  }
  return findings;
}

function mappingServiceDifferences(
  base: MappingService,
  canary: MappingService | undefined,
  canaryService: string,
): string[] {
  if (!canary) return ['the canary Mapping has no service'];
  const differences: string[] = [];
  if (canary.name !== canaryService)
    differences.push(`it names "${canary.name}", not the canary Service ${canaryService}`);
  if (canary.scheme !== base.scheme) {
    differences.push(
      base.scheme ? `the scheme ${base.scheme} is lost` : `the scheme ${canary.scheme} was added`,
    );
  }
  if (canary.domain !== base.domain) {
    differences.push(
      base.domain
        ? `the namespace part "${base.domain.slice(1)}" is lost`
        : `"${canary.domain.slice(1)}" was added`,
    );
  }
  if (canary.port !== base.port) {
    differences.push(
      base.port ? `the port ${base.port.slice(1)} is lost` : `port ${canary.port.slice(1)} was added`,
    );
  }
  return differences;
}
