import { BlueGreenRollout } from './argo/blue-green-rollout.js';
import { CanaryRollout } from './argo/canary-rollout.js';
import type {
  BlueGreenRolloutOptions,
  CanaryRolloutOptions,
  ClusterPorts,
  SimulatedRollout,
} from './argo/options.js';

/**
 * The cluster side of the demo, on top of kube-sim and elbv2-sim: plays the Argo Rollouts
 * controller and the AWS Load Balancer Controller for a few Rollouts, so that what the
 * notification bodies say, what the Kubernetes API holds and what the ALB shows stay consistent.
 *
 * - The Rollout lives in kube-sim (validated against the CRD on every write). Argo's writes go
 *   through `put` (they are not in the request log, which so shows only the verifier's calls);
 *   the notification bodies ARE the stored Rollout, taken before Argo persists the transition
 *   (pre-transition snapshots, as the controller sends them).
 * - Pods exist as EndpointSlices of the stable and canary Services (ready endpoints); the load
 *   balancer controller registers ready pod IPs in the IP-mode target groups and writes the
 *   weights Argo asks for to every listener rule — unless a scenario makes it lag or throttled.
 * - Argo reacts to what the callback writes, on `reconcile()`: a cleared pause lets the rollout
 *   go on to the next step; `status.abort` sends the canary weight back to 0 (and the controller
 *   applies it) and an `on-rollout-aborted` notification.
 *
 * The notifications are the ones the real controller sends, with the snapshots it sends (measured
 * in the lab, lab/FINDINGS.md; held to it by test/e2e/conformance.test.ts): `on-rollout-updated`
 * for the new revision, carrying the previous revision's final status; a setWeight step's
 * `on-rollout-step-completed`, carrying the weights from before the step; `on-rollout-paused` as a
 * `pause: {}` begins, before the pause is persisted; the pause's own step-completed once it is
 * released; `on-rollout-completed` and `on-rollout-aborted`.
 *
 * With `istio` or `ambassador` options a canary Rollout routes through a mesh instead of an ALB:
 * there is no load balancer controller, Argo itself writes the weights into the VirtualService's
 * HTTP routes or the `<mapping>-canary` Mapping it clones (sim/argo/mesh-routes.ts), and the pods
 * are only the Services' EndpointSlices.
 */

// The classes live in sim/argo/, one concern each: options.ts (what a scenario sets), helpers.ts,
// rollout-base.ts, canary-rollout.ts, blue-green-rollout.ts, mesh-routes.ts (Istio, Ambassador).
export { BlueGreenRollout } from './argo/blue-green-rollout.js';
export { CanaryRollout } from './argo/canary-rollout.js';
export { PROMOTE_ANNOTATION, shortUser } from './argo/helpers.js';
export type {
  AmbassadorRoutingOptions,
  BlueGreenRolloutOptions,
  CanaryRolloutOptions,
  ClusterPorts,
  IstioRoutingOptions,
  LoadBalancerControllerFaults,
  SimulatedRollout,
} from './argo/options.js';

export class SimulatedCluster {
  readonly rollouts: SimulatedRollout[] = [];
  private networks = 0;

  constructor(readonly ports: ClusterPorts) {}

  canary(options: CanaryRolloutOptions): CanaryRollout {
    const rollout = new CanaryRollout(this.ports, options, ++this.networks);
    this.rollouts.push(rollout);
    return rollout;
  }

  blueGreen(options: BlueGreenRolloutOptions): BlueGreenRollout {
    const rollout = new BlueGreenRollout(this.ports, options, ++this.networks);
    this.rollouts.push(rollout);
    return rollout;
  }

  /** One reconcile round over every Rollout; true when any of them acted. */
  async reconcile(): Promise<boolean> {
    let acted = false;
    for (const rollout of this.rollouts) {
      if (await rollout.reconcile()) acted = true;
    }
    return acted;
  }
}
