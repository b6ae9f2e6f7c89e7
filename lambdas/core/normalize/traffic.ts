import type { EventTrigger } from '../../../contract/event-catalog.js';
import { type AlbIngressRef, ElbArn, type Traffic } from '../contracts/rollout-event.js';
import {
  type AlbStatus,
  BLUE_GREEN_INGRESSES_ANNOTATION,
  BLUE_GREEN_SERVICE_PORT_ANNOTATION,
  type CanaryStrategy,
  type NotificationRollout,
  splitVirtualServiceName,
  UNSUPPORTED_ROUTERS,
} from './notification-body.js';

/**
 * Where the rollout's traffic is split, as the routers need it. One router per event: when a
 * Rollout configures several (Argo reconciles them all), ALB wins over Istio over Ambassador,
 * the order of what this project can observe best.
 */
export function buildTraffic(trigger: EventTrigger, rollout: NotificationRollout): Traffic {
  const { canary, blueGreen } = rollout.spec.strategy;
  if (blueGreen) {
    const annotations = rollout.metadata.annotations;
    const ingresses = annotations[BLUE_GREEN_INGRESSES_ANNOTATION];
    if (ingresses && blueGreen.previewService) {
      // The active Service is the side that must carry everything: "stable" in the verifier's model.
      return {
        router: 'alb',
        ingresses: ingresses.map((ingress) => ({ ingress })),
        stableService: blueGreen.activeService,
        canaryService: blueGreen.previewService,
        servicePort: annotations[BLUE_GREEN_SERVICE_PORT_ANNOTATION] ?? 80,
      };
    }
    return {
      router: 'none',
      activeService: blueGreen.activeService,
      ...(blueGreen.previewService ? { previewService: blueGreen.previewService } : {}),
    };
  }
  const routing = canary?.trafficRouting;
  if (!canary || !routing) return { router: 'none' };

  const managedRoutes = (routing.managedRoutes ?? []).map((route) => route.name);
  const managed = managedRoutes.length > 0 ? { managedRoutes } : {};

  if (routing.alb) {
    const { alb } = routing;
    // The ALB reconciler prefers ping-pong Services when they are set (GetStableAndCanaryServices(ro, true)).
    const sides = canary.pingPong
      ? pingPongSides(trigger, rollout, canary.pingPong)
      : // NotificationRollout's refinement requires both services with ALB routing and no ping-pong.
        { stableService: canary.stableService ?? '', canaryService: canary.canaryService ?? '' };
    return {
      router: 'alb',
      // status.alb's target groups follow the ping-pong roles of an earlier reconcile: only its load balancer is kept.
      ingresses: albIngresses(alb.ingress, alb.ingresses, rollout.status, {
        keepTargetGroups: !canary.pingPong,
      }),
      ...sides,
      ...(canary.pingPong
        ? { pingPong: { pingService: canary.pingPong.pingService, pongService: canary.pingPong.pongService } }
        : {}),
      ...managed,
      ...(alb.rootService ? { rootService: alb.rootService } : {}),
      servicePort: alb.servicePort,
    };
  }

  if (routing.istio) {
    const { istio } = routing;
    const references = [
      ...(istio.virtualService ? [istio.virtualService] : []),
      ...(istio.virtualServices ?? []),
    ];
    const seen = new Set<string>();
    const virtualServices = references
      .filter((vs) => !seen.has(vs.name) && seen.add(vs.name))
      .map((vs) => ({
        ...splitVirtualServiceName(vs.name),
        ...(vs.routes ? { routes: vs.routes } : {}),
        ...(vs.tlsRoutes ? { tlsRoutes: vs.tlsRoutes.map(l4RouteRef) } : {}),
        ...(vs.tcpRoutes ? { tcpRoutes: vs.tcpRoutes.map(l4RouteRef) } : {}),
      }));
    const rule = istio.destinationRule;
    // Istio uses ping-pong Services only when neither canaryService nor stableService is set
    // (GetStableAndCanaryServices(ro, false)).
    const sides =
      canary.pingPong && !canary.stableService && !canary.canaryService
        ? pingPongSides(trigger, rollout, canary.pingPong)
        : {
            ...(canary.stableService ? { stableService: canary.stableService } : {}),
            ...(canary.canaryService ? { canaryService: canary.canaryService } : {}),
          };
    const additionalSubsetNames = rule?.additionalSubsetNames ?? [];
    return {
      router: 'istio',
      virtualServices,
      ...(rule
        ? {
            destinationRule: {
              name: rule.name,
              canarySubsetName: rule.canarySubsetName,
              stableSubsetName: rule.stableSubsetName,
              ...(additionalSubsetNames.length > 0 ? { additionalSubsetNames } : {}),
            },
          }
        : {}),
      ...sides,
      ...managed,
    };
  }

  if (routing.ambassador) {
    return {
      router: 'ambassador',
      mappings: routing.ambassador.mappings,
      stableService: canary.stableService ?? '',
      canaryService: canary.canaryService ?? '',
    };
  }

  return { router: 'none' };
}

/**
 * Which ping-pong Service is stable: `status.canary.stablePingPong` is `ping` for ping, anything
 * else (pong, or empty) for pong (trafficrouting.IsStablePing). The controller swaps it when it
 * promotes a new ReplicaSet to stable (rollout/sync.go), and the on-rollout-completed notification
 * carries the Rollout from before that swap: the roles the traffic settles in are the swapped ones.
 * A Rollout that never had a stable ReplicaSet (its first revision) settles with ping stable: the
 * first completion swaps the empty value to ping (the lab saw revision 1's on-rollout-updated,
 * without any status, end with all traffic on ping).
 */
function pingPongSides(
  trigger: EventTrigger,
  rollout: NotificationRollout,
  pingPong: { pingService: string; pongService: string },
): { stableService: string; canaryService: string } {
  const { status } = rollout;
  const stableIsPing = status.canary?.stablePingPong === 'ping';
  const swapping = trigger === 'on-rollout-completed' && status.stableRS !== status.currentPodHash;
  const pingStable = !status.stableRS || (swapping ? !stableIsPing : stableIsPing);
  return pingStable
    ? { stableService: pingPong.pingService, canaryService: pingPong.pongService }
    : { stableService: pingPong.pongService, canaryService: pingPong.pingService };
}

function l4RouteRef(ref: { port?: number | null; sniHosts?: string[] | null }) {
  return {
    ...(ref.port != null ? { port: ref.port } : {}),
    ...(ref.sniHosts ? { sniHosts: ref.sniHosts } : {}),
  };
}

/** Traffic routers Argo supports that the verifier does not observe, as named in the Rollout spec. */
export function unsupportedRouters(canary: CanaryStrategy | null | undefined): string[] {
  const routing = canary?.trafficRouting;
  if (!routing || routing.alb || routing.istio || routing.ambassador) return [];
  return UNSUPPORTED_ROUTERS.filter((router) => routing[router] != null);
}

/**
 * `alb.ingress` and `alb.ingresses`, deduplicated in order, each with the ARNs Argo recorded
 * in status.alb (single ingress) / status.albs (one entry per ingress). Argo records them only
 * with its own ALB verification on, and they can be stale; invalid ARNs are dropped.
 */
function albIngresses(
  ingress: string | null | undefined,
  ingresses: readonly string[] | null | undefined,
  status: NotificationRollout['status'],
  options: { keepTargetGroups: boolean },
): AlbIngressRef[] {
  const names = [...new Set([...(ingress ? [ingress] : []), ...(ingresses ?? [])])];
  const recorded: AlbStatus[] = [...(status.alb ? [status.alb] : []), ...(status.albs ?? [])];
  return names.map((name) => {
    const entry =
      recorded.find((candidate) => candidate.ingress === name) ??
      // Older controllers left status.alb.ingress empty: it then belongs to the only ingress.
      (names.length === 1 && status.alb && !status.alb.ingress ? status.alb : undefined);
    return { ingress: name, ...(entry ? recordedArns(entry, options.keepTargetGroups) : {}) };
  });
}

function recordedArns(entry: AlbStatus, keepTargetGroups: boolean): Omit<AlbIngressRef, 'ingress'> {
  const arn = (value: string | undefined) => (value && ElbArn.safeParse(value).success ? value : undefined);
  const loadBalancerArn = arn(entry.loadBalancer?.arn);
  const canaryTargetGroupArn = keepTargetGroups ? arn(entry.canaryTargetGroup?.arn) : undefined;
  const stableTargetGroupArn = keepTargetGroups ? arn(entry.stableTargetGroup?.arn) : undefined;
  const loadBalancerName = entry.loadBalancer?.name || undefined;
  return {
    ...(loadBalancerArn ? { loadBalancerArn } : {}),
    ...(loadBalancerName ? { loadBalancerName } : {}),
    ...(canaryTargetGroupArn ? { canaryTargetGroupArn } : {}),
    ...(stableTargetGroupArn ? { stableTargetGroupArn } : {}),
  };
}
