import type { RolloutObject } from '../kube/index.js';
import { now, revisionObject, suffix } from './helpers.js';
import type { BlueGreenRolloutOptions, ClusterPorts } from './options.js';
import { RolloutBase } from './rollout-base.js';

/** A blue-green Rollout whose active Service is behind an ALB (annotation rollout-verifier.io/alb-ingresses). */
export class BlueGreenRollout extends RolloutBase {
  private promoted = false;
  private requested = false;

  constructor(
    ports: ClusterPorts,
    readonly options: BlueGreenRolloutOptions,
    network: number,
  ) {
    super(ports, options, network);
    this.create();
  }

  get activeService(): string {
    return this.name;
  }
  get previewService(): string {
    return `${this.name}-preview`;
  }

  private create(): void {
    const { replicas } = this.options;
    this.alb = this.ports.elb.addIngressAlb({
      cluster: this.ports.cluster,
      namespace: this.namespace,
      ingress: this.name,
      stableService: this.activeService,
      canaryService: this.previewService,
      servicePort: 80,
      canaryWeight: 0,
      targets: { stable: replicas, canary: 0 },
    });
    this.stablePods = this.alb.stableTargetIds.map((ip, n) => ({
      name: `${this.name}-${this.stableHash}-${suffix(`${this.stableHash}/${n}`)}`,
      ip,
    }));
    this.newPods = this.pods('new', replicas, []);
    this.endpointSlice(this.activeService, this.stablePods);
    this.endpointSlice(this.previewService, this.newPods);
    this.ports.elb.registerHealthyTargets(
      this.alb.canaryTargetGroupArn,
      this.newPods.map((pod) => pod.ip),
    );
    const object = revisionObject({
      name: this.name,
      namespace: this.namespace,
      revision: this.revision,
      replicas,
      annotations: { 'rollout-verifier.io/alb-ingresses': this.name, ...this.options.annotations },
      readinessProbe: false,
      strategy: {
        canary: null,
        blueGreen: {
          activeService: this.activeService,
          previewService: this.previewService,
          autoPromotionEnabled: false,
        },
      },
    });
    object.status = this.status(false);
    this.write(object);
    this.note(
      `Argo: blue-green revision ${this.revision} (${this.canaryHash}): ${replicas} new pods behind the preview Service, the active Service still on ${this.stableHash}`,
    );
  }

  private status(promoted: boolean): RolloutObject['status'] {
    const total = this.stablePods.length + this.newPods.length;
    const at = now();
    return {
      HPAReplicas: this.options.replicas,
      availableReplicas: total,
      blueGreen: {
        activeSelector: promoted || this.requested ? this.canaryHash : this.stableHash,
        previewSelector: this.canaryHash,
      },
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'AvailableReason',
          message: 'Rollout has minimum availability',
          lastTransitionTime: at,
          lastUpdateTime: at,
        },
      ],
      currentPodHash: this.canaryHash,
      observedGeneration: '1',
      phase: promoted ? 'Healthy' : this.requested ? 'Progressing' : 'Paused',
      ...(promoted || this.requested
        ? {}
        : {
            controllerPause: true,
            pauseConditions: [{ reason: 'BlueGreenPause', startTime: at }],
            message: 'BlueGreenPause',
          }),
      readyReplicas: total,
      replicas: total,
      selector: `app=${this.name},rollouts-pod-template-hash=${promoted || this.requested ? this.canaryHash : this.stableHash}`,
      stableRS: promoted ? this.canaryHash : this.stableHash,
      updatedReplicas: this.newPods.length,
    };
  }

  /** Someone promotes (kubectl argo rollouts promote): Argo switches the active Service on the next reconcile. */
  promote(): void {
    const live = this.live();
    this.requested = true;
    live.status = this.status(false);
    this.write(live);
  }

  async reconcile(): Promise<boolean> {
    if (this.promoted || !this.requested) return false;
    this.promoted = true;
    this.note(`Argo: promotion: the active Service now selects ${this.canaryHash}`);
    const old = this.stablePods;
    this.stablePods = this.newPods;
    this.endpointSlice(this.activeService, this.stablePods);
    this.ports.elb.registerHealthyTargets(
      this.alb.stableTargetGroupArn,
      this.stablePods.map((pod) => pod.ip),
    );
    this.ports.elb.deregisterTargets(
      this.alb.stableTargetGroupArn,
      old.map((pod) => ({ id: pod.ip })),
    );
    this.note(
      `load balancer controller: the active target group now has ${this.stablePods.length} new pods; the old ones are draining`,
    );
    // Argo records RolloutCompleted from the snapshot before promoteStable persists stableRS.
    const snapshot = this.live();
    const live = this.live();
    live.status = this.status(true);
    this.write(live);
    await this.send('on-rollout-completed', snapshot);
    return true;
  }
}
