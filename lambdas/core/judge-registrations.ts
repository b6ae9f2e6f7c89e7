import { isIP } from 'node:net';
import type { Finding } from './contracts/verdict-event.js';
import type { Observation, ObservedBackend, ObservedServiceEndpoints } from './observation.js';

/**
 * IP-mode target groups against the Services' EndpointSlices: a ready pod the controller has not
 * registered gets no traffic (capacity the rollout counts on is missing), and a registered address
 * no pod has any more takes traffic into the void (502/503). Pure, like the rest of the judge.
 */
export function judgeRegistrations(
  observation: Observation,
  carriesWeight: (backend: ObservedBackend) => boolean,
) {
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
  const registered = new Set(
    backend.targets.filter((target) => target.state !== 'draining').map((target) => target.id),
  );
  const known = new Set([...endpoints.ready, ...endpoints.notReady]);
  const missing = endpoints.ready.filter((address) => !registered.has(address));
  const stale = [...registered].filter((address) => !known.has(address)).sort();
  const findings: Finding[] = [];
  if (missing.length > 0) {
    findings.push({
      code: 'TargetNotRegistered',
      resource: backend.resource,
      expected: `${endpoints.ready.length} ready pod(s) registered`,
      observed: `${endpoints.ready.length - missing.length} registered`,
      message: `ready pod(s) ${list(missing)} of ${endpoints.resource} are not registered in the ${backend.role} target group: the load balancer controller has not reconciled them (throttled, or failing: check its logs)`,
    });
  }
  if (stale.length > 0) {
    findings.push({
      code: 'StaleTargetRegistration',
      resource: backend.resource,
      expected: `only addresses of ${endpoints.resource}`,
      observed: `${stale.length} address(es) no pod has`,
      message: `target(s) ${list(stale)} are registered in the ${backend.role} target group but no pod of ${endpoints.resource} has that address: requests sent there fail until the controller deregisters them`,
    });
  }
  return findings;
}

function list(addresses: string[]): string {
  return addresses.length <= 5
    ? addresses.join(', ')
    : `${addresses.slice(0, 5).join(', ')} and ${addresses.length - 5} more`;
}
