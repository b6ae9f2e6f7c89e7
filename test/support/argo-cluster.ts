import { createHash } from 'node:crypto';
import type { RolloutTrigger } from '../../contract/event-catalog.js';
import type { CanaryStep, NotificationBody } from './argo-driver.js';
import { notificationOf } from './argo-driver.js';
import type { Elbv2Sim, IngressAlb } from './elbv2-sim/index.js';
import { type KubeObject, type KubeSim, type RolloutObject, rolloutObject } from './kube-sim/index.js';

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
 * Argo's other notifications (on-rollout-updated, -paused, -resumed) are not sent: the steps,
 * the abort and the completion are what the demo verifies.
 */

export interface ClusterPorts {
  kube: KubeSim;
  elb: Elbv2Sim;
  /** The EKS cluster name (the load balancer controller tags and names resources with it). */
  cluster: string;
  /** Argo's notifications controller posting a body to the webhook. */
  notify(body: NotificationBody): Promise<unknown>;
  note(rollout: string, what: string): void;
}

export interface LoadBalancerControllerFaults {
  /** ModifyRule keeps getting `Throttling: Rate exceeded`: the listener rules keep their weights. */
  throttled?: boolean;
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
}

export interface BlueGreenRolloutOptions {
  namespace?: string;
  name: string;
  replicas: number;
  revision?: number;
  annotations?: Record<string, string>;
}

interface Pod {
  name: string;
  ip: string;
}

export interface SimulatedRollout {
  readonly key: string;
  /** Argo's reconcile: acts on what changed; true when it did something (and maybe notified). */
  reconcile(): Promise<boolean>;
}

const ROLLOUT_API = 'argoproj.io/v1alpha1';
/** Per-Rollout opt-in for promote on Succeeded (lambdas/core/callback/policy.ts). */
export const PROMOTE_ANNOTATION = 'rollout-verifier.io/promote-on-success';

/** A pod-template-hash shaped string, deterministic per seed. */
function podHash(seed: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256').update(seed).digest();
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

function suffix(seed: string): string {
  return podHash(`suffix/${seed}`).slice(0, 5);
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `arn:aws:sts::…:assumed-role/<role>/<session>` → `<role>`; other users as they are. */
export function shortUser(user: string | undefined): string {
  return user?.match(/assumed-role\/([^/]+)\//)?.[1] ?? user ?? 'someone';
}

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

abstract class RolloutBase implements SimulatedRollout {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly revision: number;
  readonly stableHash: string;
  readonly canaryHash: string;
  /** The uid kube-sim gave the Rollout. */
  uid = '';
  alb!: IngressAlb;
  protected stablePods: Pod[] = [];
  protected newPods: Pod[] = [];

  constructor(
    protected readonly ports: ClusterPorts,
    options: { namespace?: string; name: string; revision?: number },
    protected readonly network: number,
  ) {
    this.namespace = options.namespace ?? 'shop';
    this.name = options.name;
    this.key = `${this.namespace}/${this.name}`;
    this.revision = options.revision ?? 3;
    this.stableHash = podHash(`${this.key}/${this.revision - 1}`);
    this.canaryHash = podHash(`${this.key}/${this.revision}`);
  }

  abstract reconcile(): Promise<boolean>;

  protected note(what: string): void {
    this.ports.note(this.key, what);
  }

  live(): RolloutObject {
    const object = this.ports.kube.object(ROLLOUT_API, 'rollouts', this.namespace, this.name);
    if (!object) throw new Error(`the Rollout ${this.key} is gone from the cluster`);
    return object as RolloutObject;
  }

  /** Argo's controller writing the whole Rollout (status included) after a transition. */
  protected write(rollout: RolloutObject): RolloutObject {
    const stored = this.ports.kube.put(rollout) as RolloutObject;
    this.uid = String(stored.metadata.uid);
    return stored;
  }

  protected async send(trigger: RolloutTrigger, snapshot: RolloutObject, twice = false): Promise<void> {
    const body = notificationOf(trigger, snapshot);
    await this.ports.notify(body);
    if (!twice) return;
    this.note(
      'Argo: the webhook client timed out waiting for the answer and sends the same notification again',
    );
    await this.ports.notify(body);
  }

  protected pods(kind: 'stable' | 'new', count: number, from: Pod[]): Pod[] {
    const pods = [...from];
    const hash = kind === 'stable' ? this.stableHash : this.canaryHash;
    while (pods.length < count) {
      const n = pods.length;
      pods.push({
        name: `${this.name}-${hash}-${suffix(`${hash}/${n}`)}`,
        ip: `10.1.${this.network}.${n + 11}`,
      });
    }
    return pods;
  }

  /** The EndpointSlice the EndpointSlice controller keeps for a Service: these pods, ready. */
  protected endpointSlice(service: string, pods: Pod[]): void {
    const slice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${service}-${suffix(service)}`,
        namespace: this.namespace,
        labels: {
          'kubernetes.io/service-name': service,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      endpoints: pods.map((pod) => ({
        addresses: [pod.ip],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: this.namespace, name: pod.name },
      })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    };
    this.ports.kube.put(slice);
  }

  /** The load balancer controller: ModifyRule on every listener rule of the Ingress. */
  protected applyWeights(canaryWeight: number, options: { throttled?: boolean } = {}): void {
    const current = this.ports.elb.ruleWeights(this.alb.ruleArns[0] ?? '', 'desired');
    const shown = `canary ${current[this.alb.canaryTargetGroupArn] ?? 0} / stable ${current[this.alb.stableTargetGroupArn] ?? 0}`;
    if (options.throttled) {
      this.note(
        `load balancer controller: ModifyRule throttled (Rate exceeded), listener rules stay at ${shown}`,
      );
      return;
    }
    if (current[this.alb.canaryTargetGroupArn] === canaryWeight) {
      this.note(`load balancer controller: listener rules already at ${shown}`);
      return;
    }
    for (const ruleArn of this.alb.ruleArns) {
      this.ports.elb.setRuleWeights(ruleArn, {
        [this.alb.stableTargetGroupArn]: 100 - canaryWeight,
        [this.alb.canaryTargetGroupArn]: canaryWeight,
      });
    }
    this.note(
      `load balancer controller: ${this.alb.ruleArns.length} listener rule(s) set to canary ${canaryWeight} / stable ${100 - canaryWeight}`,
    );
  }

  /** Who last wrote `status` with a member matching `test` (from the kube-sim request log). */
  protected lastStatusWriter(test: (status: Record<string, unknown>) => boolean): string {
    const path = `/apis/argoproj.io/v1alpha1/namespaces/${this.namespace}/rollouts/${this.name}/status`;
    const request = [...this.ports.kube.requests]
      .reverse()
      .find(
        (candidate) =>
          candidate.method === 'PATCH' &&
          candidate.path === path &&
          candidate.status < 300 &&
          test(
            ((candidate.body as { status?: Record<string, unknown> })?.status ?? {}) as Record<
              string,
              unknown
            >,
          ),
      );
    return shortUser(request?.user);
  }
}

/** A canary Rollout with ALB traffic routing (one Ingress, stable and canary Services). */
export class CanaryRollout extends RolloutBase {
  private aborted = false;
  private completed = false;

  constructor(
    ports: ClusterPorts,
    readonly options: CanaryRolloutOptions,
    network: number,
  ) {
    super(ports, options, network);
    this.create();
  }

  get stableService(): string {
    return this.name;
  }
  get canaryService(): string {
    return `${this.name}-canary`;
  }

  /** The canary weight once step `index` is reached: the last setWeight at or before it. */
  weightAt(index: number): number {
    for (let at = Math.min(index, this.options.steps.length - 1); at >= 0; at--) {
      const step = this.options.steps[at];
      if (step && 'setWeight' in step) return step.setWeight;
    }
    return 0;
  }

  private create(): void {
    const { replicas } = this.options;
    this.alb = this.ports.elb.addIngressAlb({
      cluster: this.ports.cluster,
      namespace: this.namespace,
      ingress: this.name,
      stableService: this.stableService,
      canaryService: this.canaryService,
      servicePort: 80,
      listeners: this.options.listeners ?? ['HTTP:80', 'HTTPS:443'],
      canaryWeight: 0,
      targets: { stable: replicas, canary: 0 },
    });
    this.stablePods = this.alb.stableTargetIds.map((ip, n) => ({
      name: `${this.name}-${this.stableHash}-${suffix(`${this.stableHash}/${n}`)}`,
      ip,
    }));
    this.endpointSlice(this.stableService, this.stablePods);
    this.endpointSlice(this.canaryService, []);
    const object = rolloutObject({
      metadata: {
        name: this.name,
        namespace: this.namespace,
        uid: null,
        resourceVersion: null,
        creationTimestamp: null,
        labels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/part-of': this.namespace },
        annotations: {
          'rollout.argoproj.io/revision': String(this.revision),
          ...this.options.annotations,
        },
      },
      spec: {
        replicas,
        selector: { matchLabels: { app: this.name } },
        template: {
          metadata: { labels: { app: this.name } },
          spec: {
            containers: [
              {
                name: this.name,
                image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${this.name}:1.${this.revision}.0`,
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              },
            ],
          },
        },
        strategy: {
          canary: {
            canaryService: this.canaryService,
            stableService: this.stableService,
            trafficRouting: { alb: { ingress: this.name, servicePort: 80 } },
            steps: this.options.steps,
          },
        },
      },
    });
    object.status = this.status({ stepIndex: 0, canaryWeight: 0, phase: 'Progressing' });
    this.write(object);
    const steps = this.options.steps
      .map((step) => ('setWeight' in step ? `setWeight ${step.setWeight}` : 'pause'))
      .join(' → ');
    this.note(
      `Argo: revision ${this.revision} (${this.canaryHash}) of a ${replicas}-replica canary, steps ${steps}; ${replicas} stable pods behind the ALB`,
    );
  }

  private status(state: {
    stepIndex: number;
    canaryWeight: number;
    phase: string;
    paused?: boolean;
    promoted?: boolean;
  }): RolloutObject['status'] {
    const canaryPods = this.newPods.length;
    const total = this.stablePods.length + canaryPods;
    const at = now();
    return {
      HPAReplicas: total,
      availableReplicas: total,
      blueGreen: {},
      canary: {
        weights: {
          canary: {
            podTemplateHash: this.canaryHash,
            serviceName: this.canaryService,
            weight: state.canaryWeight,
          },
          stable: {
            podTemplateHash: state.promoted ? this.canaryHash : this.stableHash,
            serviceName: this.stableService,
            weight: 100 - state.canaryWeight,
          },
        },
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
        {
          type: 'Paused',
          status: state.paused ? 'True' : 'False',
          reason: state.paused ? 'RolloutPaused' : 'RolloutResumed',
          message: state.paused ? 'Rollout is paused' : 'Rollout is resumed',
          lastTransitionTime: at,
          lastUpdateTime: at,
        },
      ],
      ...(state.paused
        ? {
            controllerPause: true,
            message: 'CanaryPauseStep',
            pauseConditions: [{ reason: 'CanaryPauseStep', startTime: at }],
          }
        : {}),
      currentPodHash: this.canaryHash,
      currentStepHash: podHash(`${this.key}/steps`),
      currentStepIndex: state.stepIndex,
      observedGeneration: '1',
      phase: state.phase,
      readyReplicas: total,
      replicas: total,
      selector: `app=${this.name}`,
      stableRS: state.promoted ? this.canaryHash : this.stableHash,
      updatedReplicas: canaryPods,
    };
  }

  async reconcile(): Promise<boolean> {
    if (this.completed) return false;
    const live = this.live();
    if (live.status?.abort && !this.aborted) {
      await this.abort(live);
      return true;
    }
    if (this.aborted) return false;
    const index = live.status?.currentStepIndex ?? 0;
    const steps = this.options.steps;
    if (index >= steps.length) {
      await this.promoteFully(live);
      return true;
    }
    const step = steps[index];
    if (step && 'pause' in step) {
      if ((live.status?.pauseConditions ?? []).length > 0 || live.spec.paused) return false;
      if (step.pause.duration !== undefined) {
        this.note(
          `Argo: pause ${step.pause.duration} at step ${index} elapsed (not waited for here): on to step ${index + 1}`,
        );
      } else {
        const by = this.lastStatusWriter((status) => status.pauseConditions === null);
        this.note(
          `Argo: the pause at step ${index} was released by ${by} (status.pauseConditions cleared): on to step ${index + 1}`,
        );
      }
      live.status = this.status({
        stepIndex: index + 1,
        canaryWeight: this.weightAt(index),
        phase: 'Progressing',
      });
      this.write(live);
      return true;
    }
    await this.setWeightStep(index, live);
    return true;
  }

  /** One setWeight step: scale the canary, register it, shift the traffic, notify, move on. */
  private async setWeightStep(index: number, live: RolloutObject): Promise<void> {
    const { replicas, controller = {} } = this.options;
    const weight = this.weightAt(index);
    const wanted = Math.ceil((replicas * weight) / 100);
    const added = this.pods('new', wanted, this.newPods).slice(this.newPods.length);
    this.newPods = this.pods('new', wanted, this.newPods);
    if (added.length > 0) {
      this.endpointSlice(this.canaryService, this.newPods);
      this.note(
        `Argo: step ${index} setWeight ${weight}: canary ReplicaSet ${this.canaryHash} at ${wanted} pod(s); ready in EndpointSlice ${this.canaryService}: ${this.newPods.map((pod) => pod.ip).join(', ')}`,
      );
      const lag = Math.min(controller.unregisteredCanaryPods ?? 0, added.length);
      const registering = added.slice(0, added.length - lag);
      if (registering.length > 0) {
        this.ports.elb.registerHealthyTargets(
          this.alb.canaryTargetGroupArn,
          registering.map((pod) => pod.ip),
        );
        this.note(
          `load balancer controller: registered ${registering.map((pod) => pod.ip).join(', ')} in the canary target group`,
        );
      }
      if (lag > 0) {
        this.note(
          `load balancer controller: lagging, ${added
            .slice(added.length - lag)
            .map((pod) => pod.ip)
            .join(', ')} not registered in the canary target group`,
        );
      }
      const failing = added.slice(0, this.options.canaryPodsFailingHealthChecks ?? 0);
      for (const pod of failing) {
        this.ports.elb.failHealthChecks(
          this.alb.canaryTargetGroupArn,
          pod.ip,
          'Target.ResponseCodeMismatch',
          '503',
        );
        this.note(
          `canary pod ${pod.ip} passes its readiness probe but answers the ALB health check with 503`,
        );
      }
    } else {
      this.note(`Argo: step ${index} setWeight ${weight}`);
    }
    live.status = this.status({ stepIndex: index, canaryWeight: weight, phase: 'Progressing' });
    const snapshot = this.write(live);
    this.applyWeights(weight, { throttled: controller.throttled });

    // The step is done: the notification carries the Rollout as it is now, then Argo moves on.
    const next = index + 1;
    const nextStep = this.options.steps[next];
    const pauses = nextStep !== undefined && 'pause' in nextStep && nextStep.pause.duration === undefined;
    const after = this.live();
    after.status = this.status({
      stepIndex: next,
      canaryWeight: weight,
      phase: pauses ? 'Paused' : 'Progressing',
      paused: pauses,
    });
    this.write(after);
    await this.send('on-rollout-step-completed', snapshot, this.options.argoPostsTwice);
    if (pauses) this.note(`Argo: paused at step ${next} (pause {}, CanaryPauseStep) until someone promotes`);
  }

  /** The callback (or anyone) set status.abort: canary weight back to 0, then on-rollout-aborted. */
  private async abort(live: RolloutObject): Promise<void> {
    this.aborted = true;
    const by = this.lastStatusWriter((status) => status.abort === true);
    const index = live.status?.currentStepIndex ?? 0;
    this.note(
      `Argo: status.abort set by ${by}: aborting revision ${this.revision}, canary weight back to 0 / stable 100`,
    );
    const snapshot = structuredClone(live);
    const status = this.status({ stepIndex: index, canaryWeight: 0, phase: 'Degraded' });
    live.status = {
      ...status,
      abort: true,
      abortedAt: now(),
      message: `RolloutAborted: Rollout aborted update to revision ${this.revision}`,
    };
    this.write(live);
    // The controller's earlier trouble was transient: Argo's abort weights go through.
    this.applyWeights(0);
    await this.send('on-rollout-aborted', snapshot, this.options.argoPostsTwice);
    this.note(
      `Argo: canary pods kept for abortScaleDownDelaySeconds (30 s), then scaled down; the rollout stays Degraded until retried`,
    );
  }

  /** After the last step: the new ReplicaSet becomes stable, the stable Service selects its pods. */
  private async promoteFully(live: RolloutObject): Promise<void> {
    this.completed = true;
    const { replicas } = this.options;
    if (this.newPods.length < replicas) {
      // Past the last step the canary goes to full size before it is promoted.
      const added = this.pods('new', replicas, this.newPods).slice(this.newPods.length);
      this.newPods = [...this.newPods, ...added];
      this.endpointSlice(this.canaryService, this.newPods);
      this.ports.elb.registerHealthyTargets(
        this.alb.canaryTargetGroupArn,
        added.map((pod) => pod.ip),
      );
      this.note(
        `Argo: all steps done: canary ReplicaSet ${this.canaryHash} scaled to ${replicas} pods, registered`,
      );
      live.status = this.status({
        stepIndex: this.options.steps.length,
        canaryWeight: this.weightAt(this.options.steps.length),
        phase: 'Progressing',
      });
      live = this.write(live);
    }
    const snapshot = structuredClone(live);
    this.note(
      `Argo: all steps done: revision ${this.revision} (${this.canaryHash}) becomes stable; the stable Service selects its ${this.newPods.length} pods`,
    );
    const old = this.stablePods;
    this.stablePods = this.newPods;
    this.endpointSlice(this.stableService, this.stablePods);
    this.ports.elb.registerHealthyTargets(
      this.alb.stableTargetGroupArn,
      this.stablePods.map((pod) => pod.ip),
    );
    this.note(
      `load balancer controller: registered ${this.stablePods.map((pod) => pod.ip).join(', ')} in the stable target group`,
    );
    live.status = this.status({
      stepIndex: this.options.steps.length,
      canaryWeight: 0,
      phase: 'Healthy',
      promoted: true,
    });
    this.write(live);
    this.applyWeights(0);
    this.ports.elb.deregisterTargets(
      this.alb.stableTargetGroupArn,
      old.map((pod) => ({ id: pod.ip })),
    );
    this.note(
      `load balancer controller: deregistered the old pods ${old.map((pod) => pod.ip).join(', ')} (draining)`,
    );
    await this.send('on-rollout-completed', snapshot, this.options.argoPostsTwice);
  }
}

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
    const object = rolloutObject({
      metadata: {
        name: this.name,
        namespace: this.namespace,
        uid: null,
        resourceVersion: null,
        creationTimestamp: null,
        labels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/part-of': this.namespace },
        annotations: {
          'rollout.argoproj.io/revision': String(this.revision),
          'rollout-verifier.io/alb-ingresses': this.name,
          ...this.options.annotations,
        },
      },
      spec: {
        replicas,
        selector: { matchLabels: { app: this.name } },
        template: {
          metadata: { labels: { app: this.name } },
          spec: {
            containers: [
              {
                name: this.name,
                image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${this.name}:1.${this.revision}.0`,
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              },
            ],
          },
        },
        strategy: {
          canary: null,
          blueGreen: {
            activeService: this.activeService,
            previewService: this.previewService,
            autoPromotionEnabled: false,
          },
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
