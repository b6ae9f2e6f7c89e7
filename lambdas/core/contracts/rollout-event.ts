import { z } from 'zod';
import {
  type EventTrigger,
  LIVE_TRIGGER,
  ROLLOUT_DETAIL_TYPES,
  type RolloutTrigger,
} from '../../../contract/event-catalog.js';

/**
 * The normalized rollout event: the detail of every event the ingest function puts on the bus
 * and the only input the verifier needs. Field names are a public interface (schemaVersion 1):
 * add optional fields, never rename or repurpose one.
 */

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Object names (Rollouts, Ingresses, Services…) are DNS-1123 subdomains of at most 253 characters. */
export const KubernetesName = z
  .string()
  .max(253)
  .regex(DNS_1123_SUBDOMAIN, 'must be a DNS-1123 subdomain (lowercase alphanumerics, "-" and ".")');

/** Namespaces are DNS-1123 labels of at most 63 characters. */
export const KubernetesNamespace = z
  .string()
  .max(63)
  .regex(DNS_1123_LABEL, 'must be a DNS-1123 label (lowercase alphanumerics and "-")');

/**
 * Traffic weights: int32 like the CRD's `maxTrafficWeight`/`setWeight`. Argo accepts any
 * maxTrafficWeight (only the nginx and plugin routers may set one), so the contract does too.
 */
export const Weight = z.number().int().min(0).max(2_147_483_647);

export const ElbArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:/, 'must be an Elastic Load Balancing ARN');

const EVENT_TRIGGERS: [EventTrigger, ...EventTrigger[]] = [
  LIVE_TRIGGER,
  ...(Object.keys(ROLLOUT_DETAIL_TYPES) as RolloutTrigger[]),
];
export const RolloutTriggerSchema = z.enum(EVENT_TRIGGERS);

export const RolloutRef = z.object({
  namespace: KubernetesNamespace,
  name: KubernetesName,
  uid: z.string().min(1),
  /** `rollout.argoproj.io/revision`: increases with every new pod template. */
  revision: z.number().int().nonnegative(),
  /** The pod template hash of the revision being rolled out (the canary / preview side). */
  podTemplateHash: z.string().optional(),
  /** The hash the rollout considers stable at the time of the event (pre-transition). */
  stablePodTemplateHash: z.string().optional(),
  generation: z.number().int().nonnegative().optional(),
  resourceVersion: z.string().optional(),
});
export type RolloutRef = z.infer<typeof RolloutRef>;

/**
 * A destination Argo weights besides canary and stable: the Service of a weighted experiment
 * template (`status.canary.weights.additional`). Its weight comes out of the stable side.
 */
export const AdditionalDestination = z.object({
  weight: Weight,
  /** The experiment's Service; absent before the experiment has created it (names are generated). */
  service: KubernetesName.optional(),
  /** The experiment template it belongs to, when known. */
  template: z.string().max(253).optional(),
});
export type AdditionalDestination = z.infer<typeof AdditionalDestination>;

export const TrafficState = z.object({
  canaryWeight: Weight,
  stableWeight: Weight,
  /** Experiment destinations with their own weight; absent: none. */
  additional: z.array(AdditionalDestination).max(20).optional(),
});
export type TrafficState = z.infer<typeof TrafficState>;

/**
 * The canary weights Argo passes through on its own while dynamicStableScale resizes the
 * ReplicaSets (abort, rollback to the stable revision, a new revision, full promotion): every
 * split between them is a state the controller sets deliberately, not a mismatch.
 */
export const WeightTransition = z.object({
  minCanaryWeight: Weight,
  maxCanaryWeight: Weight,
  reason: z.string(),
});
export type WeightTransition = z.infer<typeof WeightTransition>;

export const Successor = TrafficState.extend({
  /** Why the rollout may legitimately be found in this state instead of the expected one. */
  reason: z.string(),
});
export type Successor = z.infer<typeof Successor>;

export const Expected = TrafficState.extend({
  /** The sum the weights are expressed against (`trafficRouting.maxTrafficWeight`, default 100). */
  maxWeight: Weight.min(1).default(100),
  /** How the expectation was derived, for humans reading a verdict. */
  derivation: z.string(),
  /** Healthy targets the canary side must have while it carries weight. */
  minHealthyCanaryTargets: z.number().int().nonnegative().default(1),
  /** Healthy targets the stable side must have while it carries weight. */
  minHealthyStableTargets: z.number().int().nonnegative().default(1),
  /** `status.canary.weights` at the time of the event: what the Argo controller believes it applied. */
  controllerApplied: TrafficState.extend({ verified: z.boolean().optional() }).optional(),
  /** States the rollout reaches on its own after this event; finding one of them means it moved on. */
  successors: z.array(Successor).default([]),
  /** Present when Argo walks the canary weight through a range on its own (dynamicStableScale). */
  transition: WeightTransition.optional(),
  /** spec.replicas: 0 means nothing needs healthy targets, whatever the weights. */
  replicas: z.number().int().nonnegative().optional(),
});
export type Expected = z.infer<typeof Expected>;

/** One ingress the ALB router checks, with the ARNs Argo recorded for it when it had them. */
export const AlbIngressRef = z.object({
  ingress: KubernetesName,
  loadBalancerArn: ElbArn.optional(),
  loadBalancerName: z.string().optional(),
  canaryTargetGroupArn: ElbArn.optional(),
  stableTargetGroupArn: ElbArn.optional(),
});
export type AlbIngressRef = z.infer<typeof AlbIngressRef>;

/** `trafficRouting.managedRoutes`: header and mirror routes Argo adds beside the weighted route. */
const ManagedRoutes = z.array(z.string().min(1).max(253)).max(100);

export const PingPong = z.object({ pingService: KubernetesName, pongService: KubernetesName });

export const AlbTraffic = z.object({
  router: z.literal('alb'),
  /** Every ingress of `trafficRouting.alb.ingress` and `.ingresses`, in the rollout's namespace. */
  ingresses: z.array(AlbIngressRef).min(1),
  /** The side that is stable at the event (with ping-pong: the ping or pong Service, resolved). */
  stableService: KubernetesName,
  canaryService: KubernetesName,
  /** `canary.pingPong`: the two Services swap roles at each promotion. */
  pingPong: PingPong.optional(),
  managedRoutes: ManagedRoutes.optional(),
  /** `trafficRouting.alb.rootService`: the Service name in the action annotation when it is not stableService. */
  rootService: KubernetesName.optional(),
  servicePort: z.number().int().min(1).max(65535),
});
export type AlbTraffic = z.infer<typeof AlbTraffic>;

/** A TLS/TCP route the Rollout names: its port and (TLS) SNI hosts, as the CRD has them. */
export const L4RouteRef = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  sniHosts: z.array(z.string().max(253)).max(100).optional(),
});
export type L4RouteRef = z.infer<typeof L4RouteRef>;

export const IstioTraffic = z.object({
  router: z.literal('istio'),
  virtualServices: z
    .array(
      z.object({
        name: KubernetesName,
        namespace: KubernetesNamespace.optional(),
        routes: z.array(z.string().max(253)).max(100).optional(),
        tlsRoutes: z.array(L4RouteRef).max(100).optional(),
        tcpRoutes: z.array(L4RouteRef).max(100).optional(),
      }),
    )
    .max(50),
  destinationRule: z
    .object({
      name: KubernetesName,
      canarySubsetName: z.string().max(253),
      stableSubsetName: z.string().max(253),
      /** Subsets Argo does not manage: their route weights stay as they are, out of the stable share. */
      additionalSubsetNames: z.array(z.string().max(253)).max(100).optional(),
    })
    .optional(),
  stableService: KubernetesName.optional(),
  canaryService: KubernetesName.optional(),
  managedRoutes: ManagedRoutes.optional(),
});

export const AmbassadorTraffic = z.object({
  router: z.literal('ambassador'),
  mappings: z.array(KubernetesName).min(1),
  stableService: KubernetesName,
  canaryService: KubernetesName,
});

/** Blue-green and canaries without traffic routing: the ALB (if any) is not steered by Argo weights. */
export const NoTrafficRouting = z.object({
  router: z.literal('none'),
  activeService: KubernetesName.optional(),
  previewService: KubernetesName.optional(),
});

export const Traffic = z.discriminatedUnion('router', [
  AlbTraffic,
  IstioTraffic,
  AmbassadorTraffic,
  NoTrafficRouting,
]);
export type Traffic = z.infer<typeof Traffic>;
export type RouterName = Traffic['router'];

export const RolloutEventDetail = z.object({
  schemaVersion: z.literal(1),
  /** Deduplication key: the same notification delivered twice carries the same id. */
  eventId: z.string().min(1),
  /** The notification trigger, or `live` for a Rollout read from the API server as it is now. */
  trigger: RolloutTriggerSchema,
  /** When the ingest function received the notification. */
  receivedAt: z.iso.datetime(),
  /** The cluster the rollout runs in (the ingest endpoint's configuration, or the CLI's --cluster). */
  cluster: z.string().optional(),
  rollout: RolloutRef,
  strategy: z.enum(['canary', 'blueGreen']),
  /** `status.phase` at the time of the event. */
  phase: z.string().optional(),
  aborted: z.boolean().default(false),
  step: z.object({
    /** The step the event is about: on step-completed, the step that just finished. */
    index: z.number().int().nonnegative(),
    /** `len(spec.strategy.canary.steps)`; index == count once every step is done. */
    count: z.number().int().nonnegative(),
  }),
  expected: Expected,
  traffic: Traffic,
  /** Per-rollout deadline (annotation `rollout-verifier.io/deadline-seconds`), overrides the global one. */
  deadlineSeconds: z.number().int().min(1).max(900).optional(),
});
export type RolloutEventDetail = z.infer<typeof RolloutEventDetail>;
/** What producers write: defaults may be omitted. */
export type RolloutEventDetailInput = z.input<typeof RolloutEventDetail>;
