import type { L4RouteRef } from '../../contracts/rollout-event.js';
import type {
  DestinationRole,
  ObservedDestination,
  ObservedRoute,
  ObservedRouteSelection,
} from '../../observation.js';
import type { HttpRoute, L4Route, RouteDestination, VirtualService } from './resources.js';

/**
 * Which routes of a VirtualService the rollout's weights belong on, the way the Argo controller
 * picks them (rollout/trafficrouting/istio), and where each destination sends its weight. Pure:
 * what was found goes into the observation; whether it is right is the judge's call.
 */

export interface ServiceRef {
  name: string;
  namespace: string;
}

export interface RouteContext {
  /** `virtualservice/<namespace>/<name>`. */
  resource: string;
  /** Short hosts in the VirtualService resolve against its own namespace. */
  namespace: string;
  rolloutNamespace: string;
  stableService?: string;
  canaryService?: string;
  /** Subset-level splitting: the DestinationRule's subsets, and its host when it could be read. */
  subsets?: { canary: string; stable: string; host?: ServiceRef };
  /** `destinationRule.additionalSubsetNames`: subsets whose route weights Argo leaves as they are. */
  unmanagedSubsets?: readonly string[];
  /** `trafficRouting.managedRoutes`: header and mirror routes Argo adds; never the weighted route. */
  managedRoutes?: readonly string[];
}

export interface VirtualServiceRef {
  routes?: string[];
  tlsRoutes?: L4RouteRef[];
  tcpRoutes?: L4RouteRef[];
}

export interface RouteSelection {
  routes: ObservedRoute[];
  selections: ObservedRouteSelection[];
}

export function selectRoutes(
  vs: VirtualService,
  ref: VirtualServiceRef,
  context: RouteContext,
): RouteSelection {
  // Managed routes are Argo's own additions (ValidateHTTPRoutes leaves them out of "exactly one route").
  const managed = new Set(context.managedRoutes ?? []);
  const http = selectHttp(
    (vs.spec.http ?? []).filter((route) => !route.name || !managed.has(route.name)),
    ref.routes ?? [],
    context,
  );
  const tls = selectL4('tls', vs.spec.tls ?? [], ref.tlsRoutes ?? [], context);
  const tcp = selectL4('tcp', vs.spec.tcp ?? [], ref.tcpRoutes ?? [], context);
  const result: RouteSelection = {
    routes: [...http.routes, ...tls.routes, ...tcp.routes],
    selections: [...http.selections, ...tls.selections, ...tcp.selections],
  };
  if (result.routes.length === 0 && result.selections.length === 0) {
    // Nothing named and nothing to infer: the judge reports that there is no route to verify.
    result.selections.push({
      resource: context.resource,
      protocol: 'http',
      requested: [],
      missing: [],
      available: [],
      candidates: [],
    });
  }
  return result;
}

/**
 * Named routes must each exist. With none named, a VirtualService with exactly one HTTP route
 * uses it, named or not (argo-rollouts #3884 fixed in v1.9); several are ambiguous (Argo refuses
 * them: "it must have exactly one route when omitting …routes").
 */
function selectHttp(http: HttpRoute[], names: string[], context: RouteContext): RouteSelection {
  const available = http.map((route, index) => httpLabel(route, index));
  if (names.length > 0) {
    const routes: ObservedRoute[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const index = http.findIndex((route) => route.name === name);
      const route = http[index];
      if (route) routes.push(observeHttp(route, index, 'name', context));
      else missing.push(`"${name}"`);
    }
    return {
      routes,
      selections: [
        {
          resource: context.resource,
          protocol: 'http',
          requested: names.map((name) => `"${name}"`),
          missing,
          available,
          candidates: [],
        },
      ],
    };
  }
  const [only] = http;
  if (http.length === 1 && only)
    return { routes: [observeHttp(only, 0, 'only-route', context)], selections: [] };
  if (http.length === 0) return { routes: [], selections: [] };
  return {
    routes: [],
    selections: [
      {
        resource: context.resource,
        protocol: 'http',
        requested: [],
        missing: [],
        available,
        candidates: available,
      },
    ],
  };
}

/**
 * TLS/TCP routes named in the rollout match a VirtualService route whose match blocks carry exactly
 * that port (at most one distinct port; none = 0) and, for TLS, exactly those SNI hosts. With none
 * named, the route that reaches the rollout's Services is used; several such are ambiguous.
 */
function selectL4(
  protocol: 'tls' | 'tcp',
  routes: L4Route[],
  refs: L4RouteRef[],
  context: RouteContext,
): RouteSelection {
  const available = routes.map((route, index) => l4Label(protocol, route, index));
  if (refs.length > 0) {
    const observed = new Map<number, ObservedRoute>();
    const missing: string[] = [];
    for (const ref of refs) {
      const indexes = routes.flatMap((route, index) => (l4Matches(protocol, route, ref) ? [index] : []));
      if (indexes.length === 0) missing.push(l4RefLabel(protocol, ref));
      for (const index of indexes) {
        const route = routes[index];
        if (route && !observed.has(index))
          observed.set(index, observeL4(protocol, route, index, 'match', context));
      }
    }
    return {
      routes: [...observed.values()],
      selections: [
        {
          resource: context.resource,
          protocol,
          requested: refs.map((ref) => l4RefLabel(protocol, ref)),
          missing,
          available,
          candidates: [],
        },
      ],
    };
  }
  const reaching = routes.flatMap((route, index) =>
    destinationsOf(route.route ?? [], context).some((destination) => destination.role !== 'unknown')
      ? [{ route, index }]
      : [],
  );
  const [only] = reaching;
  if (reaching.length === 1 && only) {
    return { routes: [observeL4(protocol, only.route, only.index, 'only-route', context)], selections: [] };
  }
  if (reaching.length === 0) return { routes: [], selections: [] };
  return {
    routes: [],
    selections: [
      {
        resource: context.resource,
        protocol,
        requested: [],
        missing: [],
        available,
        candidates: reaching.map(({ route, index }) => l4Label(protocol, route, index)),
      },
    ],
  };
}

function observeHttp(
  route: HttpRoute,
  index: number,
  selectedBy: ObservedRoute['selectedBy'],
  context: RouteContext,
): ObservedRoute {
  const name = route.name ?? undefined;
  return {
    resource: `${context.resource}#${name ?? `http[${index}]`}`,
    description: `HTTP route ${httpLabel(route, index)} of VirtualService ${context.resource.slice('virtualservice/'.length)}`,
    destinations: destinationsOf(route.route ?? [], context),
    selectedBy,
    ...(name !== undefined ? { routeName: name } : {}),
  };
}

function observeL4(
  protocol: 'tls' | 'tcp',
  route: L4Route,
  index: number,
  selectedBy: ObservedRoute['selectedBy'],
  context: RouteContext,
): ObservedRoute {
  return {
    resource: `${context.resource}#${protocol}[${index}]`,
    description: `${protocol.toUpperCase()} route ${l4Label(protocol, route, index)} of VirtualService ${context.resource.slice('virtualservice/'.length)}`,
    destinations: destinationsOf(route.route ?? [], context),
    selectedBy,
  };
}

/**
 * Istio weights are percentages. A lone destination without a weight takes everything; with
 * several, an omitted weight is 0. A destination that is neither side names its Service when it
 * is one of the rollout's namespace: an experiment's Service, which Argo adds by host.
 */
export function destinationsOf(entries: RouteDestination[], context: RouteContext): ObservedDestination[] {
  return entries.map((entry) => {
    const host = entry.destination?.host ?? '';
    const subset = entry.destination?.subset ?? undefined;
    const role = roleOf(host, subset, context);
    const service = resolveHost(host, context.namespace);
    return {
      resource: subset ? `${host} subset ${subset}` : host,
      role,
      weight: entry.weight ?? (entries.length === 1 ? 100 : 0),
      ...(role === 'unknown' && !subset && service?.namespace === context.rolloutNamespace
        ? { service: service.name }
        : {}),
    };
  });
}

/**
 * Argo's reading (host before the first dot, or the subset name), tightened by the namespace the
 * host resolves to: a short host means the VirtualService's own namespace, so a VirtualService in
 * another namespace pointing at `checkout` does not reach the rollout's `checkout`.
 */
function roleOf(host: string, subset: string | undefined, context: RouteContext): DestinationRole {
  const service = resolveHost(host, context.namespace);
  const subsets = context.subsets;
  if (subsets && subset) {
    const onHost = subsets.host ? sameService(service, subsets.host) : true;
    if (onHost && subset === subsets.canary) return 'canary';
    if (onHost && subset === subsets.stable) return 'stable';
    // processRoutes keeps an additional subset's weight and takes it out of the stable share.
    if ((context.unmanagedSubsets ?? []).includes(subset)) return 'unmanaged';
    return 'unknown';
  }
  if (!service || service.namespace !== context.rolloutNamespace) return 'unknown';
  if (service.name === context.canaryService) return 'canary';
  if (service.name === context.stableService) return 'stable';
  return 'unknown';
}

/** `name` (relative to `namespace`), or `name.namespace[.svc[.cluster.local]]`. */
export function resolveHost(host: string, namespace: string): ServiceRef | undefined {
  if (!host || host.includes('*')) return undefined;
  const [name = '', second] = host.split('.');
  return second === undefined ? { name, namespace } : { name, namespace: second };
}

function sameService(a: ServiceRef | undefined, b: ServiceRef): boolean {
  return a !== undefined && a.name === b.name && a.namespace === b.namespace;
}

function httpLabel(route: HttpRoute, index: number): string {
  return route.name ? `"${route.name}"` : `http[${index}] (unnamed)`;
}

function l4Label(protocol: 'tls' | 'tcp', route: L4Route, index: number): string {
  const { port, sniHosts } = l4MatchOf(route);
  const parts = [port === undefined ? 'several ports' : `port ${port}`];
  if (protocol === 'tls' && sniHosts.length > 0) parts.push(`SNI ${sniHosts.join(' ')}`);
  return `${protocol}[${index}] (${parts.join(', ')})`;
}

function l4RefLabel(protocol: 'tls' | 'tcp', ref: L4RouteRef): string {
  const sni =
    protocol === 'tls' && (ref.sniHosts ?? []).length > 0 ? `, SNI ${(ref.sniHosts ?? []).join(' ')}` : '';
  return `port ${ref.port ?? 0}${sni}`;
}

/** The single port of a route's match blocks (0 when none names one; undefined when several do). */
function l4MatchOf(route: L4Route): { port: number | undefined; sniHosts: string[] } {
  const ports = new Set<number>();
  const sniHosts = new Set<string>();
  for (const match of route.match ?? []) {
    if (match.port != null) ports.add(match.port);
    for (const host of match.sniHosts ?? []) sniHosts.add(host);
  }
  if (ports.size > 1) return { port: undefined, sniHosts: [...sniHosts].sort() };
  return { port: [...ports][0] ?? 0, sniHosts: [...sniHosts].sort() };
}

function l4Matches(protocol: 'tls' | 'tcp', route: L4Route, ref: L4RouteRef): boolean {
  const { port, sniHosts } = l4MatchOf(route);
  if (port === undefined || port !== (ref.port ?? 0)) return false;
  if (protocol === 'tcp') return true;
  const wanted = [...new Set(ref.sniHosts ?? [])].sort();
  return wanted.length === sniHosts.length && wanted.every((host, index) => host === sniHosts[index]);
}
