import type { Expected, RolloutEventDetail } from './contracts/rollout-event.js';
import type { Finding } from './contracts/verdict-event.js';

/**
 * What a router saw, in terms every router shares, so one judge holds the rules.
 * Routers only observe: they never decide whether what they saw is right.
 */

/**
 * `unmanaged`: a destination Argo deliberately leaves at its weight (Istio
 * `destinationRule.additionalSubsetNames`): out of the split, its weight out of the stable share.
 * `unknown`: neither side as the router can tell; an experiment's Service is one (the judge
 * matches those against the experiment weights the rollout expects).
 */
export type DestinationRole = 'canary' | 'stable' | 'unmanaged' | 'unknown';

/** A place that splits traffic: an ALB listener rule, an Istio HTTP route, an Ambassador Mapping pair. */
export interface ObservedRoute {
  /** ARN or `kind/namespace/name[#route]`. */
  resource: string;
  /** Human wording of where it is, e.g. `listener-rule priority 3 on HTTPS:443 of k8s-shop-abc`. */
  description: string;
  destinations: ObservedDestination[];
  /**
   * Why a mesh route was observed, when the rollout's config chooses among several: named in
   * `routes`, matched by TLS/TCP port (and SNI), or the resource's only route while the rollout
   * names none (argo-rollouts #3884: controllers before v1.9 skip it when it has a name).
   */
  selectedBy?: 'name' | 'match' | 'only-route';
  /** The route's own name, for mesh routes that have one. */
  routeName?: string;
}

export interface ObservedDestination {
  /** Target group ARN, or the Service / subset a mesh route points at. */
  resource: string;
  role: DestinationRole;
  weight: number;
  /** The Kubernetes Service it reaches, when the router can tell (mesh hosts). */
  service?: string;
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
  /** `experiment`: a target group the rule weights that is neither side (a running experiment step's Service). */
  role: 'canary' | 'stable' | 'experiment';
  targets: ObservedTarget[];
}

/** One pod address of a Service, with the port the Service's target port resolves to on it. */
export interface ObservedEndpoint {
  address: string;
  /** Absent when the EndpointSlice names no port for the rollout's Service port. */
  port?: number;
}

/** The pods behind a Service, from its EndpointSlices: what the load balancer controller registers. */
export interface ObservedServiceEndpoints {
  /** `service/<namespace>/<name>`. */
  resource: string;
  role: 'canary' | 'stable';
  ready: ObservedEndpoint[];
  notReady: ObservedEndpoint[];
}

export interface Observation {
  router: string;
  region?: string;
  routes: ObservedRoute[];
  /** Empty when the router cannot see targets; then the judge checks weights only. */
  backends: ObservedBackend[];
  /** Present when the verifier may read the cluster: registrations are checked against them. */
  endpoints?: ObservedServiceEndpoints[];
  /** Istio: the routes the rollout's config asks for in each VirtualService, and what is there. */
  routeSelections?: ObservedRouteSelection[];
  /** Istio: present when none of the rollout's VirtualServices applies to in-mesh callers. */
  meshBypass?: ObservedMeshBypass;
  /** Istio: the DestinationRule subsets the routes name. */
  subsets?: ObservedSubset[];
  /** Ambassador: each base Mapping with its `<name>-canary` Mapping. */
  mappings?: ObservedMappingPair[];
  /** Parts that could not be observed: AccessDenied, NotFound, throttling… (Inconclusive material). */
  problems: Finding[];
  /** The Rollout as the API server held it at this observation, when the verifier may read it. */
  current?: ObservedCurrentRollout;
  /**
   * The router read the routes and deliberately left target health unread, because the caller's
   * `ObserveOptions.needsTargetHealth` said the routes alone already settle this look. Such an
   * observation can never be Succeeded (the judge names the unread health as a gap).
   */
  routesOnly?: true;
}

/**
 * How much one observation reads. While the routes still carry the wrong weights, target health
 * cannot change the judgement, and on a shared ELBv2 budget (10 Describe calls per second per
 * account and region) a look that reads only the routes costs a third of a full one.
 */
export interface ObserveOptions {
  /**
   * Asked with the routes-only observation before target health is read (routers that read health
   * with the routes). `false` returns that observation as it is, marked `routesOnly`; absent or
   * `true`: a full observation. Routers without a separate health read ignore it.
   */
  needsTargetHealth?: (routesOnly: Observation) => boolean | Promise<boolean>;
}

/**
 * The Rollout read live next to the routes: what it expects now (its persisted status, derived as
 * a `live` event), or why the event no longer describes it (re-created, another revision).
 */
export type ObservedCurrentRollout =
  | { resource: string; stepIndex: number; expected: Expected }
  | { resource: string; supersededBy: string };

/** The routes of one protocol a rollout names in one VirtualService, and what the VirtualService has. */
export interface ObservedRouteSelection {
  /** `virtualservice/<namespace>/<name>`. */
  resource: string;
  protocol: 'http' | 'tls' | 'tcp';
  /** HTTP route names, or TLS/TCP matches (`port 443, SNI a.example.com`) the rollout names; empty: none named. */
  requested: string[];
  /** The requested ones the VirtualService does not have. */
  missing: string[];
  /** Every route of that protocol the VirtualService has (`"primary"`, `http[1] (unnamed)`). */
  available: string[];
  /** With none named: the routes the rollout could mean (for TLS/TCP, those reaching its sides). */
  candidates: string[];
}

/** None of the rollout's VirtualServices is bound to the `mesh` gateway: sidecars route without its weights. */
export interface ObservedMeshBypass {
  /** The VirtualServices, `virtualservice/<namespace>/<name>`. */
  resources: string[];
  /** The gateways they are bound to instead. */
  gateways: string[];
  /** Ready pods in-cluster callers reach; `canary` absent when the sides cannot be told apart. Absent: not counted. */
  readyPods?: { total: number; canary?: number };
  /** Where the pods were counted, e.g. `service/shop/checkout, service/shop/checkout-canary`. */
  countedFrom: string[];
}

/** A DestinationRule subset a rollout routes to by name (Istio subset-level splitting). */
export interface ObservedSubset {
  /** `destinationrule/<namespace>/<name>#<subset>`. */
  resource: string;
  role: 'canary' | 'stable';
  /** The DestinationRule has a subset of that name. */
  present: boolean;
  /** Its `rollouts-pod-template-hash` label, which Argo keeps on the ReplicaSet of that side. */
  podTemplateHash?: string;
  /** The hash the rollout event says that side runs; absent when the event does not say. */
  expectedPodTemplateHash?: string;
}

/** An Ambassador base Mapping and the `<name>-canary` Mapping Argo clones from it. */
export interface ObservedMappingPair {
  /** `mapping/<namespace>/<name>`. */
  resource: string;
  /** `mapping/<namespace>/<name>-canary`. */
  canaryResource: string;
  /** The rollout's Services, as the config names them. */
  stableService: string;
  canaryService: string;
  /** The base Mapping's `spec.service`, e.g. `https://checkout.shop:8443`. */
  baseService?: string;
  /** The base Mapping's own `spec.weight`: Argo refuses to clone a Mapping that has one. */
  baseWeight?: number;
  /** Absent when the canary Mapping does not exist. */
  canary?: { service?: string; weight?: number };
}

/**
 * One router per traffic-routing kind, behind this one small interface: the verify path (the
 * handler, the CLI, verifyRollout) only ever holds a `Router` from `routers/index.ts`, never a
 * concrete one. Routers only observe; the judge decides.
 */
export interface Router {
  /** The `traffic.router` of the events it observes. */
  readonly kind: TrafficRouterKind;
  observe(event: RolloutEventDetail, signal?: AbortSignal, options?: ObserveOptions): Promise<Observation>;
}

export type TrafficRouterKind = Exclude<RolloutEventDetail['traffic']['router'], 'none'>;

/**
 * Inside a router's folder: what it observes, given as the part of the event it needs (a
 * namespace, the traffic routing, the cluster…), so decorators and tests work on that part alone.
 */
export interface TargetObserver<TTarget> {
  observe(target: TTarget, signal?: AbortSignal, options?: ObserveOptions): Promise<Observation>;
  /** Forget cached discovery, e.g. after a NotFound. */
  invalidate?(target: TTarget): void;
}
