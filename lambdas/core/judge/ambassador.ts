import type { Expected } from '../contracts/rollout-event.js';
import type { Finding } from '../contracts/verdict-event.js';
import type { ObservedMappingPair } from '../observation.js';

/**
 * Ambassador rules: the canary Mapping Argo clones from each base Mapping must keep the base's
 * service with only the Service name replaced (argo-rollouts #3593), and exist while the canary
 * carries weight.
 */

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

export function judgeMappingPair(expected: Expected, pair: ObservedMappingPair): Finding[] {
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
