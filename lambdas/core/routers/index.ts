import type { KubeApiForCluster } from '../cluster/kube-api.js';
import type { RolloutEventDetail } from '../contracts/rollout-event.js';
import type { Router, TrafficRouterKind } from '../observation.js';
import type { ElbApi } from './alb/elb-api.js';
import { AlbRouter } from './alb/router.js';
import { withServiceEndpoints } from './alb/with-endpoints.js';
import { AmbassadorRouter, type AmbassadorRouterOptions } from './ambassador/router.js';
import { IstioRouter, type IstioRouterOptions } from './istio/router.js';

/**
 * The one place that knows the concrete routers. Everything on the verify path (the verify
 * handler, the CLI, verifyRollout) asks `Routers` for the router of an event, or why there is none.
 */
export interface Routers {
  /** The router that observes the event's traffic routing, or why the event cannot be verified here. */
  forEvent(event: RolloutEventDetail): { router: Router } | { reason: string };
}

export interface RouterDependencies {
  /** ELBv2 reads, for ALB-routed rollouts. */
  elb: ElbApi;
  /**
   * The rollout's cluster API, when the verifier may read it: Istio and Ambassador routes live
   * there, and with it ALB registrations are compared with the Services' EndpointSlices.
   */
  kubeFor?: KubeApiForCluster;
  istio?: IstioRouterOptions;
  ambassador?: AmbassadorRouterOptions;
}

export function createRouters(dependencies: RouterDependencies): Routers {
  const { elb, kubeFor } = dependencies;
  return routersFrom([
    albRouter(elb, kubeFor),
    ...(kubeFor
      ? [istioRouter(kubeFor, dependencies.istio), ambassadorRouter(kubeFor, dependencies.ambassador)]
      : []),
  ]);
}

/** A router set from routers already made (tests, or a caller with its own). */
export function routersFrom(routers: readonly Router[]): Routers {
  const byKind = new Map<TrafficRouterKind, Router>(routers.map((router) => [router.kind, router]));
  return {
    forEvent(event) {
      const kind = event.traffic.router;
      if (kind === 'none') {
        return {
          reason:
            'the rollout uses no traffic routing: its split follows replica counts, there is no weight to verify',
        };
      }
      const router = byKind.get(kind);
      if (router) return { router };
      return kind === 'alb'
        ? { reason: 'this verifier has no ALB router' }
        : {
            reason: `the ${kind} router reads ${kind === 'istio' ? 'VirtualServices' : 'Mappings'} through the Kubernetes API, and this verifier has no access to the rollout's cluster${event.cluster ? ` (${event.cluster})` : ''}: configure the cluster (the stack's clusterNames; for the CLI, a kubeconfig)`,
          };
    },
  };
}

/**
 * ALB listener rules and target health through ELBv2; with cluster access, the stable and canary
 * Services' EndpointSlices too.
 */
export function albRouter(elb: ElbApi, kubeFor?: KubeApiForCluster): Router {
  const alb = new AlbRouter(elb);
  const observer = kubeFor ? withServiceEndpoints(alb, kubeFor) : alb;
  return {
    kind: 'alb',
    observe(event, signal, options) {
      if (event.traffic.router !== 'alb') throw new Error(`not an ALB-routed event: ${event.traffic.router}`);
      return observer.observe(
        { namespace: event.rollout.namespace, cluster: event.cluster, traffic: event.traffic },
        signal,
        options,
      );
    },
  };
}

export function istioRouter(kubeFor: KubeApiForCluster, options?: IstioRouterOptions): Router {
  const istio = new IstioRouter(kubeFor, options);
  return {
    kind: 'istio',
    observe(event, signal) {
      if (event.traffic.router !== 'istio')
        throw new Error(`not an Istio-routed event: ${event.traffic.router}`);
      return istio.observe(
        {
          namespace: event.rollout.namespace,
          cluster: event.cluster,
          traffic: event.traffic,
          podTemplateHash: event.rollout.podTemplateHash,
          stablePodTemplateHash: event.rollout.stablePodTemplateHash,
        },
        signal,
      );
    },
  };
}

export function ambassadorRouter(kubeFor: KubeApiForCluster, options?: AmbassadorRouterOptions): Router {
  const ambassador = new AmbassadorRouter(kubeFor, options);
  return {
    kind: 'ambassador',
    observe(event, signal) {
      if (event.traffic.router !== 'ambassador') {
        throw new Error(`not an Ambassador-routed event: ${event.traffic.router}`);
      }
      return ambassador.observe(
        { namespace: event.rollout.namespace, cluster: event.cluster, traffic: event.traffic },
        signal,
      );
    },
  };
}
