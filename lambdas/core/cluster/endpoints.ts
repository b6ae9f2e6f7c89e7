import { type KubeApi, listObjects } from './kube-api.js';
import { endpointSlicesPath } from './paths.js';

/**
 * Which pods stand behind a Service, from its EndpointSlices (discovery.k8s.io/v1): the source the
 * load balancer controller registers IP targets from. Argo's own check reads the deprecated
 * core/v1 Endpoints, which truncate at 1000 addresses.
 */

export interface ServiceEndpoints {
  service: string;
  /** Addresses of ready endpoints (conditions.ready true or unset, as the API defines it). */
  ready: string[];
  /** Addresses that exist but are not ready (starting, failing readiness, or terminating). */
  notReady: string[];
}

interface EndpointSlice {
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[] | null;
}

export async function readServiceEndpoints(
  api: KubeApi,
  namespace: string,
  service: string,
  signal?: AbortSignal,
): Promise<ServiceEndpoints> {
  const slices = await listObjects<EndpointSlice>(
    api,
    endpointSlicesPath(namespace),
    { 'kubernetes.io/service-name': service },
    signal,
  );
  const ready = new Set<string>();
  const notReady = new Set<string>();
  for (const slice of slices.items) {
    // ALB IP targets are IPv4 or IPv6 addresses; FQDN slices are not pods.
    if (slice.addressType === 'FQDN') continue;
    for (const endpoint of slice.endpoints ?? []) {
      // "nil should be interpreted as ready" (discovery.k8s.io/v1 EndpointConditions).
      const isReady = endpoint.conditions?.ready !== false;
      for (const address of endpoint.addresses ?? []) (isReady ? ready : notReady).add(address);
    }
  }
  // One address may appear in two slices while the controller moves it: ready wins.
  for (const address of ready) notReady.delete(address);
  return { service, ready: [...ready].sort(), notReady: [...notReady].sort() };
}
