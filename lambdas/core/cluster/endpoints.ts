import type { ObservedEndpoint } from '../observation.js';
import { getObject, type KubeApi, listObjects } from './kube-api.js';
import { endpointSlicesPath, servicePath } from './paths.js';

/**
 * Which pods stand behind a Service, from its EndpointSlices (discovery.k8s.io/v1): the source the
 * load balancer controller registers IP targets from. Argo's own check reads the deprecated
 * core/v1 Endpoints, which truncate at 1000 addresses.
 */

export interface ServiceEndpoints {
  service: string;
  /** Ready endpoints (conditions.ready true or unset, as the API defines it). */
  ready: ObservedEndpoint[];
  /** Endpoints that exist but are not ready (starting, failing readiness, or terminating). */
  notReady: ObservedEndpoint[];
}

interface EndpointSlice {
  addressType?: string;
  ports?: { name?: string | null; port?: number | null }[] | null;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[] | null;
}

interface Service {
  spec?: { ports?: { name?: string | null; port?: number | null }[] | null } | null;
}

export interface EndpointOptions {
  /**
   * The Service port the load balancer forwards to (`trafficRouting.alb.servicePort`): each
   * endpoint then carries the port its slice resolves that Service port's target port to, which
   * is the port an IP target must be registered on. One extra GET of the Service.
   */
  servicePort?: number;
  signal?: AbortSignal;
}

export async function readServiceEndpoints(
  api: KubeApi,
  namespace: string,
  service: string,
  options: EndpointOptions = {},
): Promise<ServiceEndpoints> {
  const { servicePort, signal } = options;
  const [slices, portName] = await Promise.all([
    listObjects<EndpointSlice>(
      api,
      endpointSlicesPath(namespace),
      { 'kubernetes.io/service-name': service },
      signal,
    ),
    servicePort === undefined ? undefined : servicePortName(api, namespace, service, servicePort, signal),
  ]);
  const ready = new Map<string, ObservedEndpoint>();
  const notReady = new Map<string, ObservedEndpoint>();
  for (const slice of slices.items) {
    // ALB IP targets are IPv4 or IPv6 addresses; FQDN slices are not pods.
    if (slice.addressType === 'FQDN') continue;
    // EndpointSlice ports carry the Service port's name and the resolved target port number.
    const port =
      portName === undefined
        ? undefined
        : ((slice.ports ?? []).find((candidate) => (candidate.name ?? '') === portName)?.port ?? undefined);
    for (const endpoint of slice.endpoints ?? []) {
      // "nil should be interpreted as ready" (discovery.k8s.io/v1 EndpointConditions).
      const isReady = endpoint.conditions?.ready !== false;
      for (const address of endpoint.addresses ?? []) {
        const entry: ObservedEndpoint = port === undefined ? { address } : { address, port };
        (isReady ? ready : notReady).set(keyOf(entry), entry);
      }
    }
  }
  // One endpoint may appear in two slices while the controller moves it: ready wins.
  for (const key of ready.keys()) notReady.delete(key);
  return { service, ready: sorted(ready), notReady: sorted(notReady) };
}

/** Every address behind a Service, once each (for counting pods, ports aside). */
export function addressesOf(endpoints: readonly ObservedEndpoint[]): string[] {
  return [...new Set(endpoints.map((endpoint) => endpoint.address))];
}

/**
 * The name of the Service's port `port` ('' when unnamed, as EndpointSlices write it), or
 * undefined when the Service has no such port (then addresses are compared without ports).
 */
async function servicePortName(
  api: KubeApi,
  namespace: string,
  service: string,
  port: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const object = await getObject<Service>(api, servicePath(namespace, service), signal);
  const match = (object.spec?.ports ?? []).find((candidate) => candidate.port === port);
  return match ? (match.name ?? '') : undefined;
}

function keyOf(endpoint: ObservedEndpoint): string {
  return `${endpoint.address}|${endpoint.port ?? ''}`;
}

function sorted(entries: Map<string, ObservedEndpoint>): ObservedEndpoint[] {
  return [...entries.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}
