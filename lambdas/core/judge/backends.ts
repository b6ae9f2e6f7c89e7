import type { Expected } from '../contracts/rollout-event.js';
import type { Finding } from '../contracts/verdict-event.js';
import type { Observation, ObservedBackend, TargetState } from '../observation.js';

/** Targets the ALB sends traffic to. `unavailable` means health checks are off: the ALB routes to them. */
const ROUTABLE: ReadonlySet<TargetState> = new Set<TargetState>(['healthy', 'unavailable']);

/**
 * Every target group that carries weight on some route must be able to serve it: at least the
 * healthy targets the rollout's step needs (one, whatever the expectation, while it carries
 * weight), and none unhealthy. A rollout scaled to 0 replicas needs none: Argo keeps its weights,
 * but there are no pods to be healthy.
 */
export function judgeBackends(expected: Expected, observation: Observation): Finding[] {
  if (expected.replicas === 0) return [];
  return observation.backends.flatMap((backend) => {
    if (backendWeight(observation, backend) === 0) return [];
    return judgeBackend(backend, minHealthyTargets(expected, backend));
  });
}

/** An experiment's target group needs one healthy target while it carries weight: its size is the experiment's. */
function minHealthyTargets(expected: Expected, backend: ObservedBackend): number {
  if (backend.role === 'canary') return expected.minHealthyCanaryTargets;
  if (backend.role === 'stable') return expected.minHealthyStableTargets;
  return 1;
}

/** The most any route sends to this backend. */
export function backendWeight(observation: Observation, backend: ObservedBackend): number {
  return Math.max(
    0,
    ...observation.routes.flatMap((route) =>
      route.destinations
        .filter((destination) => destination.resource === backend.resource)
        .map((destination) => destination.weight),
    ),
  );
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
