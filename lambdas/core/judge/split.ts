import type { AdditionalDestination, Expected, TrafficState } from '../contracts/rollout-event.js';
import type { Finding } from '../contracts/verdict-event.js';
import type { ObservedDestination, ObservedRoute } from '../observation.js';

/**
 * The weights on each route against the split the rollout expects. Weights are relative (an ALB
 * forwards 20/80 and 200/800 alike), so shares are compared exactly by cross-multiplying with the
 * route's total instead of rounding percentages.
 *
 * What a route may legitimately carry besides canary and stable, the way Argo writes it:
 * - experiment Services (a running weighted experiment step): their weight comes out of the
 *   stable side; the router sees them as destinations it cannot name (`unknown`), matched here
 *   against the experiment weights of the state (by Service name when both sides know it);
 * - `unmanaged` destinations (Istio additionalSubsetNames): Argo keeps their weight and
 *   subtracts it from the stable side, so stable + unmanaged is the stable share.
 */

export interface SplitJudgement {
  findings: Finding[];
  /** Every route is at a state the rollout reaches on its own after the event. */
  movedOn?: Finding;
  /** Every route is at canary 0, which a later full promotion and a never-applied step both explain. */
  ambiguous?: Finding;
}

export function judgeSplit(expected: Expected, routes: readonly ObservedRoute[]): SplitJudgement {
  if (routes.length === 0) return { findings: [] };
  const findings = routes.flatMap((route) => judgeRoute(expected, route));
  if (!findings.some((finding) => finding.code === 'WeightMismatch')) return { findings };

  const successor = expected.successors.find((state) =>
    routes.every((route) => carries(route, state, expected.maxWeight)),
  );
  if (!successor) return { findings };
  const observed = describeState(successor);
  const resource = routes.map((route) => route.resource).join(', ');
  if (successor.canaryWeight === 0) {
    return {
      findings,
      ambiguous: {
        code: 'AmbiguousState',
        resource,
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
      resource,
      expected: describeState(expected),
      observed,
      message: `the rollout moved on since the event: traffic is at ${observed} (${successor.reason})`,
    },
  };
}

/** Does the route carry exactly this split (experiment destinations included)? */
export function carries(route: ObservedRoute, state: TrafficState, maxWeight: number): boolean {
  const weights = weightsOf(route);
  if (weights.total === 0) return false;
  return (
    weights.canary * maxWeight === state.canaryWeight * weights.total &&
    (weights.stable + weights.unmanaged) * maxWeight === state.stableWeight * weights.total &&
    othersAreExperiments(weights, state.additional ?? [], maxWeight)
  );
}

/** Is the route inside the range of canary weights Argo walks through on its own (dynamicStableScale)? */
function withinTransition(route: ObservedRoute, expected: Expected): boolean {
  const transition = expected.transition;
  if (!transition) return false;
  const weights = weightsOf(route);
  if (weights.total === 0) return false;
  if (!othersAreExperiments(weights, expected.additional ?? [], expected.maxWeight)) return false;
  // Everything else on the route is stable (or unmanaged): the stable share is what the canary leaves.
  const canary = weights.canary * expected.maxWeight;
  return (
    transition.minCanaryWeight * weights.total <= canary &&
    canary <= transition.maxCanaryWeight * weights.total
  );
}

interface RouteWeights {
  total: number;
  canary: number;
  stable: number;
  unmanaged: number;
  /** Destinations with weight that are neither side nor unmanaged. */
  others: ObservedDestination[];
}

function weightsOf(route: ObservedRoute): RouteWeights {
  const weights: RouteWeights = { total: 0, canary: 0, stable: 0, unmanaged: 0, others: [] };
  for (const destination of route.destinations) {
    weights.total += destination.weight;
    if (destination.role === 'unknown') {
      if (destination.weight > 0) weights.others.push(destination);
    } else weights[destination.role] += destination.weight;
  }
  return weights;
}

/** The route's other weighted destinations are exactly the state's experiment destinations. */
function othersAreExperiments(
  weights: RouteWeights,
  additional: readonly AdditionalDestination[],
  maxWeight: number,
): boolean {
  const remaining = additional.filter((destination) => destination.weight > 0);
  if (remaining.length !== weights.others.length) return false;
  // Destinations that name their Service first, so a name match is never taken by a nameless one.
  const others = [...weights.others].sort(
    (a, b) => Number(b.service !== undefined) - Number(a.service !== undefined),
  );
  for (const other of others) {
    const match = remaining.findIndex(
      (destination) =>
        other.weight * maxWeight === destination.weight * weights.total &&
        (destination.service === undefined ||
          other.service === undefined ||
          destination.service === other.service),
    );
    if (match < 0) return false;
    remaining.splice(match, 1);
  }
  return true;
}

function judgeRoute(expected: Expected, route: ObservedRoute): Finding[] {
  if (carries(route, expected, expected.maxWeight) || withinTransition(route, expected)) return [];
  const findings: Finding[] = [];
  const weights = weightsOf(route);
  const present = (role: 'canary' | 'stable') =>
    route.destinations.some((destination) => destination.role === role);

  for (const [role, wanted] of [
    ['canary', expected.canaryWeight],
    ['stable', expected.stableWeight],
  ] as const) {
    if (!present(role) && wanted > 0) {
      findings.push({
        code: 'TargetGroupMissing',
        resource: route.resource,
        expected: `${role} weight ${wanted}`,
        observed: 'absent',
        message: `${route.description} does not forward to the ${role} side, expected weight ${wanted}`,
      });
    }
  }
  // Weighted destinations the expected experiments explain are not strangers, even when the split is off.
  if (!othersAreExperiments(weights, expected.additional ?? [], expected.maxWeight)) {
    const experiments = (expected.additional ?? []).length > 0;
    for (const stranger of weights.others) {
      findings.push({
        code: 'UnexpectedTargetGroup',
        resource: route.resource,
        expected: `weight 0 (${stranger.resource})`,
        observed: `weight ${stranger.weight} (${stranger.resource})`,
        message: `${route.description} sends weight ${stranger.weight} to ${stranger.resource}, which is neither the canary nor the stable side${experiments ? ' nor one of the running experiment’s destinations' : ''}`,
      });
    }
  }

  const observedState = shareOf(weights, expected.maxWeight);
  findings.push({
    code: 'WeightMismatch',
    resource: route.resource,
    expected: describeExpected(expected),
    observed: describeRaw(weights),
    message: `${route.description}: ${describeRaw(weights)}, expected ${describeExpected(expected)}${layerNote(expected, observedState)}${selectionNote(route)}`,
    layer: divergingLayer(expected, observedState),
  });
  return findings;
}

/** The route's canary and stable shares, scaled to the rollout's max weight; undefined when nothing carries weight. */
function shareOf(weights: RouteWeights, maxWeight: number): TrafficState | undefined {
  if (weights.total === 0) return undefined;
  return {
    canaryWeight: Math.round((weights.canary * maxWeight) / weights.total),
    stableWeight: Math.round(((weights.stable + weights.unmanaged) * maxWeight) / weights.total),
  };
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

/** WeightMismatch wording for a route the verifier picked because it is the only one. */
function selectionNote(route: ObservedRoute): string {
  if (route.selectedBy !== 'only-route' || route.routeName === undefined) return '';
  return ` — the rollout names no routes and "${route.routeName}" is the VirtualService's only HTTP route: Argo Rollouts before v1.9 skips a single route that has a name (argo-rollouts #3884); name it in trafficRouting.istio.virtualService.routes or upgrade the controller`;
}

export function describeState(state: TrafficState): string {
  const experiments = (state.additional ?? []).map((destination) => destination.weight);
  return `canary ${state.canaryWeight} / stable ${state.stableWeight}${experiments.length > 0 ? ` / experiment ${experiments.join(' + ')}` : ''}`;
}

function describeExpected(expected: Expected): string {
  const transition = expected.transition;
  return transition
    ? `${describeState(expected)} (or canary ${transition.minCanaryWeight}–${transition.maxCanaryWeight} on the way there)`
    : describeState(expected);
}

function describeRaw(weights: RouteWeights): string {
  const parts = [`canary ${weights.canary}`, `stable ${weights.stable}`];
  if (weights.unmanaged > 0) parts.push(`unmanaged ${weights.unmanaged}`);
  if (weights.others.length > 0)
    parts.push(`other ${weights.others.map((other) => other.weight).join(' + ')}`);
  return parts.join(' / ');
}
