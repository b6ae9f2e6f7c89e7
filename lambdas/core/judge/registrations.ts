import { isIP } from 'node:net';
import type { Finding } from '../contracts/verdict-event.js';
import type {
  Observation,
  ObservedBackend,
  ObservedEndpoint,
  ObservedServiceEndpoints,
  ObservedTarget,
} from '../observation.js';

/**
 * IP-mode target groups against the Services' EndpointSlices: a ready pod the controller has not
 * registered (at its address AND the port the Service's target port resolves to) gets no traffic
 * — capacity the rollout counts on is missing — and a registered address no pod has any more
 * takes traffic into the void (502/503). Pure, like the rest of the judge.
 */
export function judgeRegistrations(
  observation: Observation,
  carriesWeight: (backend: ObservedBackend) => boolean,
): Finding[] {
  const findings: Finding[] = [];
  for (const endpoints of observation.endpoints ?? []) {
    for (const backend of observation.backends) {
      if (backend.role !== endpoints.role || !isIpTargetGroup(backend) || !carriesWeight(backend)) continue;
      findings.push(...compare(backend, endpoints));
    }
  }
  return findings;
}

/** Instance-mode groups register nodes, not pods: only groups whose every target is an IP are compared. */
function isIpTargetGroup(backend: ObservedBackend): boolean {
  return backend.targets.length > 0 && backend.targets.every((target) => isIP(target.id) !== 0);
}

function compare(backend: ObservedBackend, endpoints: ObservedServiceEndpoints): Finding[] {
  // Draining targets are on their way out by design: neither missing nor stale.
  const registered = backend.targets.filter((target) => target.state !== 'draining');
  const known = [...endpoints.ready, ...endpoints.notReady];
  const missing = endpoints.ready.filter(
    (endpoint) => !registered.some((target) => serves(target, endpoint)),
  );
  const stale = registered.filter((target) => !known.some((endpoint) => serves(target, endpoint)));
  // A pod registered on another port than its Service's target port: one problem, reported once.
  const wrongPort = missing.flatMap((endpoint) => {
    const target = stale.find((candidate) => candidate.id === endpoint.address);
    return target ? [{ endpoint, target }] : [];
  });
  const onWrongPort = new Set(wrongPort.map(({ target }) => target));
  const findings: Finding[] = [];
  if (missing.length > 0) {
    const described = missing.map((endpoint) => {
      const misplaced = wrongPort.find((entry) => entry.endpoint === endpoint);
      return misplaced
        ? `${endpointLabel(endpoint)} (registered on port ${misplaced.target.port ?? 'none'})`
        : endpointLabel(endpoint);
    });
    findings.push({
      code: 'TargetNotRegistered',
      resource: backend.resource,
      expected: `${endpoints.ready.length} ready pod(s) registered`,
      observed: `${endpoints.ready.length - missing.length} registered`,
      message: `ready pod(s) ${list(described)} of ${endpoints.resource} are not registered in the ${backend.role} target group${wrongPort.length > 0 ? ' at the port the Service’s target port resolves to' : ''}: the load balancer controller has not reconciled them (throttled, or failing: check its logs)`,
    });
  }
  const gone = stale.filter((target) => !onWrongPort.has(target));
  if (gone.length > 0) {
    findings.push({
      code: 'StaleTargetRegistration',
      resource: backend.resource,
      expected: `only addresses of ${endpoints.resource}`,
      observed: `${gone.length} address(es) no pod has`,
      message: `target(s) ${list(gone.map(targetLabel).sort())} are registered in the ${backend.role} target group but no pod of ${endpoints.resource} has that address: requests sent there fail until the controller deregisters them`,
    });
  }
  return findings;
}

/** The target is this pod: same address and, when the EndpointSlice names one, same port. */
function serves(target: ObservedTarget, endpoint: ObservedEndpoint): boolean {
  if (target.id !== endpoint.address) return false;
  return endpoint.port === undefined || target.port === undefined || target.port === endpoint.port;
}

function endpointLabel(endpoint: ObservedEndpoint): string {
  return endpoint.port === undefined ? endpoint.address : `${endpoint.address}:${endpoint.port}`;
}

function targetLabel(target: ObservedTarget): string {
  return target.port === undefined ? target.id : `${target.id}:${target.port}`;
}

function list(items: string[]): string {
  return items.length <= 5
    ? items.join(', ')
    : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}
