import type { AnalysisRunResult, AnalysisStep } from '../argo-analysis.js';
import type { CanaryStep, NotificationBody } from '../argo-driver.js';
import type { Elbv2Sim } from '../elbv2/index.js';
import type { KubeSim, RolloutObject } from '../kube/index.js';

export interface ClusterPorts {
  kube: KubeSim;
  elb: Elbv2Sim;
  /** The EKS cluster name (the load balancer controller tags and names resources with it). */
  cluster: string;
  /** Argo's notifications controller posting a body to the webhook. */
  notify(body: NotificationBody): Promise<unknown>;
  note(rollout: string, what: string): void;
  /** Argo's analysis controller running the AnalysisRun of an inline analysis step (sim/argo-analysis.ts). */
  analysis?(rollout: RolloutObject, step: AnalysisStep, stepIndex: number): Promise<AnalysisRunResult>;
}

export interface LoadBalancerControllerFaults {
  /** ModifyRule keeps getting `Throttling: Rate exceeded`: the listener rules keep their weights. */
  throttled?: boolean;
  /** The controller applies each step's weights only this long after Argo asked (a slow reconcile). */
  appliesWeightsAfterMs?: number;
  /** The controller has not registered this many of the newest ready canary pods (it lags). */
  unregisteredCanaryPods?: number;
}

export interface CanaryRolloutOptions {
  namespace?: string;
  name: string;
  replicas: number;
  steps: CanaryStep[];
  revision?: number;
  /** Extra Rollout annotations, e.g. `rollout-verifier.io/promote-on-success: "true"`. */
  annotations?: Record<string, string>;
  listeners?: string[];
  controller?: LoadBalancerControllerFaults;
  /** This many canary pods pass their readiness probe but answer the ALB health check with 503. */
  canaryPodsFailingHealthChecks?: number;
  /** Argo's webhook client times out on every POST and sends the same notification again. */
  argoPostsTwice?: boolean;
  /**
   * Argo Rollouts before v1.8 sends the new revision's on-rollout-updated after it has reset the
   * status for it (step 0, the new pod hash, Progressing); v1.8 and later before, with the previous
   * revision's final status (seen in the lab on v1.6.6 and v1.7.2 against v1.8.2 and v1.9.1).
   */
  controllerBeforeV18?: boolean;
  /** Istio host-level traffic routing instead of the ALB (`controller` and the target options do not apply). */
  istio?: IstioRoutingOptions;
  /** Ambassador traffic routing instead of the ALB (`controller` and the target options do not apply). */
  ambassador?: AmbassadorRoutingOptions;
}

/**
 * A VirtualService `<rollout>` (networking.istio.io/v1) whose HTTP routes send the stable and
 * canary Services their weights; Argo writes the weights into the routes it selects.
 */
export interface IstioRoutingOptions {
  /** The VirtualService's HTTP routes by name (`undefined`: unnamed). Default: one unnamed route. */
  httpRoutes?: Array<string | undefined>;
  /** `virtualService.routes` in the Rollout; absent: the Rollout names none. */
  routes?: string[];
  /** The VirtualService's `spec.gateways`; absent: none, i.e. the sidecars (`mesh`) only. */
  gateways?: string[];
  /**
   * Argo Rollouts before v1.9: with no routes named it updates the first UNNAMED route only, so a
   * VirtualService whose one route has a name is never updated (argo-rollouts #3884). v1.9 uses
   * the only route, named or not, and refuses several.
   */
  controllerBeforeV19?: boolean;
  /**
   * Right after Argo applied this step's weights, a GitOps sync puts a second (unnamed) HTTP route
   * into the VirtualService, ahead of the one Argo manages.
   */
  routeAddedAfterStep?: number;
}

/** A base Mapping `<rollout>-mapping` (getambassador.io/v2); Argo clones `<name>-canary` from it. */
export interface AmbassadorRoutingOptions {
  /** The base Mapping's `spec.service`. Default `https://<stable Service>.<namespace>:8443`. */
  baseService?: string;
  /**
   * Argo before the argo-rollouts #3593 fix: the canary Mapping's service is `<canary Service>:<port>`,
   * dropping the scheme and the namespace. Fixed: the base service with the stable Service name replaced.
   */
  controllerDropsSchemeAndNamespace?: boolean;
}

export interface BlueGreenRolloutOptions {
  namespace?: string;
  name: string;
  replicas: number;
  revision?: number;
  annotations?: Record<string, string>;
}

export interface Pod {
  name: string;
  ip: string;
}

export interface SimulatedRollout {
  readonly key: string;
  /** Argo's reconcile: acts on what changed; true when it did something (and maybe notified). */
  reconcile(): Promise<boolean>;
}
