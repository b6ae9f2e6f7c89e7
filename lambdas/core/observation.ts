import type { Finding } from './contracts/verdict-event.js';

/**
 * What a router saw, in terms every router shares, so one judge holds the rules.
 * Routers only observe: they never decide whether what they saw is right.
 */

export type DestinationRole = 'canary' | 'stable' | 'unknown';

/** A place that splits traffic: an ALB listener rule, an Istio HTTP route, an Ambassador Mapping pair. */
export interface ObservedRoute {
  /** ARN or `kind/namespace/name[#route]`. */
  resource: string;
  /** Human wording of where it is, e.g. `listener-rule priority 3 on HTTPS:443 of k8s-shop-abc`. */
  description: string;
  destinations: ObservedDestination[];
}

export interface ObservedDestination {
  /** Target group ARN, or the Service / subset a mesh route points at. */
  resource: string;
  role: DestinationRole;
  weight: number;
}

/** ELBv2 TargetHealth.State values. */
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

export interface ObservedTarget {
  id: string;
  port?: number;
  state: TargetState;
  reason?: string;
  description?: string;
}

/** The members behind one destination, when the router can see them (ALB target groups). */
export interface ObservedBackend {
  resource: string;
  role: Exclude<DestinationRole, 'unknown'>;
  targets: ObservedTarget[];
}

export interface Observation {
  router: string;
  region?: string;
  routes: ObservedRoute[];
  /** Empty when the router cannot see targets; then the judge checks weights only. */
  backends: ObservedBackend[];
  /** Parts that could not be observed: AccessDenied, NotFound, throttling… (Inconclusive material). */
  problems: Finding[];
}

/** One router per traffic-routing kind, behind one small interface. */
export interface Router<TTraffic> {
  readonly name: string;
  observe(traffic: TTraffic, signal?: AbortSignal): Promise<Observation>;
  /** Forget cached discovery, e.g. after a NotFound. */
  invalidate?(traffic: TTraffic): void;
}
