import type { Expected } from '../contracts/rollout-event.js';
import type { Finding } from '../contracts/verdict-event.js';
import type { ObservedMeshBypass, ObservedRouteSelection, ObservedSubset } from '../observation.js';
import { describeState } from './split.js';

/**
 * Istio rules: route selection as the Rollout means it, the DestinationRule subsets Argo
 * relabels, and in-mesh callers that bypass a gateway-only VirtualService.
 */

const ROUTES_FIELD = { http: 'routes', tls: 'tlsRoutes', tcp: 'tcpRoutes' } as const;

/** Route selection the way the Rollout means it: named routes must exist; none named needs exactly one. */
export function judgeRouteSelection(selection: ObservedRouteSelection): Finding[] {
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

/**
 * The subsets Argo relabels with each side's pod template hash. The hashes are checked only mid-rollout
 * (both sides carry weight): at the ends the pre-transition snapshot may name the previous stable hash.
 */
export function judgeSubset(expected: Expected, subset: ObservedSubset): Finding[] {
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
export function judgeMeshBypass(expected: Expected, bypass: ObservedMeshBypass): Finding[] {
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
