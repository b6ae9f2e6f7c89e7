import type { Expected, TrafficState } from './contracts/rollout-event.js';
import {
  type Finding,
  type FindingCode,
  UNOBSERVABLE_FINDING_CODES,
  type Verdict,
} from './contracts/verdict-event.js';
import type { Observation, ObservedBackend, ObservedRoute, TargetState } from './observation.js';

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
  if (split.movedOn) return conclude([split.movedOn]);
  const findings = [...observation.problems, ...split.findings, ...judgeBackends(expected, observation)];
  if (split.ambiguous && findings.every((finding) => finding.code === 'WeightMismatch')) {
    return conclude([...observation.problems, split.ambiguous]);
  }
  return conclude(findings);
}

export function isUnobservable(finding: Finding): boolean {
  return UNOBSERVABLE.has(finding.code);
}

function conclude(findings: Finding[]): Judgement {
  if (findings.length === 0) return { verdict: 'Succeeded', findings, final: true };
  const definite = findings.some((finding) => !isUnobservable(finding));
  return {
    verdict: definite ? 'Failed' : 'Inconclusive',
    findings,
    final: !definite && findings.some((finding) => FINAL.has(finding.code)),
  };
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
      message: `${route.description}: ${describeRaw(route)}, expected ${describeState(expected)}${layerNote(expected, observedState)}`,
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
      return ` — the load balancer matches what Argo applied (canary ${applied?.canaryWeight}); the Argo controller has not applied the step's weight`;
    case 'both':
      return ` — Argo believes it applied canary ${applied?.canaryWeight}, and the load balancer matches neither`;
    default:
      return applied
        ? ` — Argo applied canary ${applied.canaryWeight}; the load balancer has not caught up`
        : '';
  }
}

function judgeBackends(expected: Expected, observation: Observation): Finding[] {
  return observation.backends.flatMap((backend) => {
    const weight = Math.max(
      0,
      ...observation.routes.flatMap((route) =>
        route.destinations
          .filter((destination) => destination.resource === backend.resource)
          .map((destination) => destination.weight),
      ),
    );
    if (weight === 0) return [];
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
