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
export function buildTraffic(rollout: NotificationRollout): Traffic {
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

  if (routing.alb) {
    const { alb } = routing;
    return {
      router: 'alb',
      ingresses: albIngresses(alb.ingress, alb.ingresses, rollout.status),
      // NotificationRollout's refinement requires both services with ALB routing.
      stableService: canary.stableService ?? '',
      canaryService: canary.canaryService ?? '',
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
        ...(vs.tlsRoutes ? { tlsRoutes: vs.tlsRoutes } : {}),
        ...(vs.tcpRoutes ? { tcpRoutes: vs.tcpRoutes } : {}),
      }));
    const rule = istio.destinationRule;
    return {
      router: 'istio',
      virtualServices,
      ...(rule
        ? {
            destinationRule: {
              name: rule.name,
              canarySubsetName: rule.canarySubsetName,
              stableSubsetName: rule.stableSubsetName,
            },
          }
        : {}),
      ...(canary.stableService ? { stableService: canary.stableService } : {}),
      ...(canary.canaryService ? { canaryService: canary.canaryService } : {}),
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
): AlbIngressRef[] {
  const names = [...new Set([...(ingress ? [ingress] : []), ...(ingresses ?? [])])];
  const recorded: AlbStatus[] = [...(status.alb ? [status.alb] : []), ...(status.albs ?? [])];
  return names.map((name) => {
    const entry =
      recorded.find((candidate) => candidate.ingress === name) ??
      // Older controllers left status.alb.ingress empty: it then belongs to the only ingress.
      (names.length === 1 && status.alb && !status.alb.ingress ? status.alb : undefined);
    return { ingress: name, ...(entry ? recordedArns(entry) : {}) };
  });
}

function recordedArns(entry: AlbStatus): Omit<AlbIngressRef, 'ingress'> {
  const arn = (value: string | undefined) => (value && ElbArn.safeParse(value).success ? value : undefined);
  const loadBalancerArn = arn(entry.loadBalancer?.arn);
  const canaryTargetGroupArn = arn(entry.canaryTargetGroup?.arn);
  const stableTargetGroupArn = arn(entry.stableTargetGroup?.arn);
  const loadBalancerName = entry.loadBalancer?.name || undefined;
  return {
    ...(loadBalancerArn ? { loadBalancerArn } : {}),
    ...(loadBalancerName ? { loadBalancerName } : {}),
    ...(canaryTargetGroupArn ? { canaryTargetGroupArn } : {}),
    ...(stableTargetGroupArn ? { stableTargetGroupArn } : {}),
  };
}
