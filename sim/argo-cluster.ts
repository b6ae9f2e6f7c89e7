import { createHash } from 'node:crypto';
import type { RolloutTrigger } from '../contract/event-catalog.js';
import type { AnalysisRunResult, AnalysisStep } from './argo-analysis.js';
import type { CanaryStep, NotificationBody } from './argo-driver.js';
import { notificationOf } from './argo-driver.js';
import type { Elbv2Sim, IngressAlb } from './elbv2/index.js';
import { type KubeObject, type KubeSim, type RolloutObject, rolloutObject } from './kube/index.js';

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
 * HTTP routes or the `<mapping>-canary` Mapping it clones (see MeshRoutes below), and the pods
 * are only the Services' EndpointSlices.
 */

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
/** How long the canary holds maxTrafficWeight between the last step and the stable switch. */
const END_OF_STEPS_HOLD_MS = 50;
/** Per-Rollout opt-in for promote on Succeeded (lambdas/core/callback/policy.ts). */
export const PROMOTE_ANNOTATION = 'rollout-verifier.io/promote-on-success';

/** A measurement's value for the timeline: short. */
function clipValue(value: string): string {
  return value.length <= 140 ? value : `${value.slice(0, 139)}…`;
}

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
        // Stable pods get their own range: the ALB rollouts take theirs from the target group.
        ip: `10.${kind === 'stable' ? 2 : 1}.${this.network}.${n + 11}`,
      });
    }
    return pods;
  }

  /**
   * The Service itself, once: port `servicePort` named `http`, targeting the pods' `http` port
   * (8080), the way the EndpointSlices below resolve it.
   */
  protected service(name: string, servicePort = 80): void {
    if (this.services.has(name)) return;
    this.services.add(name);
    this.ports.kube.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: this.namespace },
      spec: { ports: [{ name: 'http', port: servicePort, targetPort: 'http', protocol: 'TCP' }] },
    });
  }

  private readonly services = new Set<string>();

  /** The EndpointSlice the EndpointSlice controller keeps for a Service: these pods, ready. */
  protected endpointSlice(service: string, pods: Pod[]): void {
    this.service(service);
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
  /** Weights the load balancer controller applies late (appliesWeightsAfterMs). */
  private lateWeights: Promise<void> | undefined;
  /** Istio or Ambassador routing: Argo writes the weights itself, no ALB. */
  private mesh?: MeshRoutes;

  /** The new revision's `on-rollout-updated`, in flight from the constructor: reconcile waits for it. */
  private updated?: Promise<void>;

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
    if (this.options.istio || this.options.ambassador) {
      this.createMeshRouted();
      return;
    }
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
    this.writeNewRollout({ alb: { ingress: this.name, servicePort: 80 } }, 'behind the ALB');
  }

  /** The stable pods (EndpointSlices only) and the mesh objects, then the Rollout. */
  private createMeshRouted(): void {
    const { replicas, istio, ambassador } = this.options;
    this.stablePods = this.pods('stable', replicas, []);
    this.endpointSlice(this.stableService, this.stablePods);
    this.endpointSlice(this.canaryService, []);
    const rollout = {
      namespace: this.namespace,
      name: this.name,
      stableService: this.stableService,
      canaryService: this.canaryService,
    };
    const note = (what: string) => this.note(what);
    this.mesh = istio
      ? new IstioRoutes(this.ports.kube, rollout, istio, note)
      : new AmbassadorRoutes(this.ports.kube, rollout, ambassador ?? {}, note);
    this.writeNewRollout(this.mesh.trafficRouting, this.mesh.description);
  }

  /** Argo's first write of the new revision: the Rollout in kube-sim (validated against the CRD). */
  private writeNewRollout(trafficRouting: Record<string, unknown>, behind: string): void {
    const { replicas } = this.options;
    const object = revisionObject({
      name: this.name,
      namespace: this.namespace,
      revision: this.revision,
      replicas,
      annotations: this.options.annotations,
      readinessProbe: true,
      strategy: {
        canary: {
          canaryService: this.canaryService,
          stableService: this.stableService,
          // A merge patch on the fixture: its `alb` goes unless this Rollout routes through the ALB.
          trafficRouting: { alb: null, ...trafficRouting },
          steps: this.options.steps,
        },
      },
    });
    // The user's new pod template lands on a Rollout still holding the previous revision's final
    // status: that is the body of Argo's on-rollout-updated, sent before it resets the steps.
    object.status = this.status({
      stepIndex: this.options.steps.length,
      canaryWeight: 0,
      phase: 'Healthy',
      previousRevision: true,
    });
    const stored = this.write(object);
    const reset = this.write({
      ...stored,
      status: this.status({ stepIndex: 0, canaryWeight: 0, phase: 'Progressing' }),
    });
    const updated = this.options.controllerBeforeV18 ? reset : stored;
    this.updated = this.send('on-rollout-updated', structuredClone(updated), this.options.argoPostsTwice);
    const steps = this.options.steps
      .map((step) =>
        'setWeight' in step ? `setWeight ${step.setWeight}` : 'pause' in step ? 'pause' : 'analysis',
      )
      .join(' → ');
    this.note(
      `Argo: revision ${this.revision} (${this.canaryHash}) of a ${replicas}-replica canary, steps ${steps}; ${replicas} stable pods ${behind}`,
    );
  }

  private status(state: {
    stepIndex: number;
    canaryWeight: number;
    phase: string;
    paused?: boolean;
    promoted?: boolean;
    /** The previous revision's final status: it is stable and current, all its pods updated. */
    previousRevision?: boolean;
  }): RolloutObject['status'] {
    if (state.previousRevision) {
      const status = this.status({ ...state, previousRevision: false, promoted: true });
      return {
        ...status,
        canary: {
          weights: {
            canary: { podTemplateHash: this.stableHash, serviceName: this.canaryService, weight: 0 },
            stable: { podTemplateHash: this.stableHash, serviceName: this.stableService, weight: 100 },
          },
        },
        currentPodHash: this.stableHash,
        stableRS: this.stableHash,
        updatedReplicas: this.stablePods.length,
      };
    }
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
    if (this.updated) {
      // Argo starts the canary ReplicaSet now; its pods take a while to be ready before the first
      // setWeight: the new revision's own notification is verified before the steps begin.
      await this.updated;
      this.updated = undefined;
      return true;
    }
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
    if (step && 'analysis' in step) {
      // Inconclusive: paused for a human (InconclusiveAnalysisRun), nothing more happens here.
      if ((live.status?.pauseConditions ?? []).length > 0 || live.spec.paused) return false;
      await this.analysisStep(index, step.analysis, live);
      return true;
    }
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
        // The pause step is complete: its body is the Rollout as the release left it (phase Paused,
        // controllerPause still set, no pause condition).
        await this.send('on-rollout-step-completed', structuredClone(live), this.options.argoPostsTwice);
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

  /** The load balancer controller registers new canary pods (unless it lags); some may fail the ALB health check. */
  private registerCanaryTargets(added: Pod[]): void {
    const { controller = {} } = this.options;
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
      // It has failed every check since it was registered: unhealthy before anyone looks, and staying so.
      this.ports.elb.setTargetHealth(this.alb.canaryTargetGroupArn, pod.ip, 'unhealthy', {
        reason: 'Target.ResponseCodeMismatch',
      });
      this.ports.elb.failHealthChecks(
        this.alb.canaryTargetGroupArn,
        pod.ip,
        'Target.ResponseCodeMismatch',
        '503',
      );
      this.note(`canary pod ${pod.ip} passes its readiness probe but answers the ALB health check with 503`);
    }
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
      if (!this.mesh) this.registerCanaryTargets(added);
    } else {
      this.note(`Argo: step ${index} setWeight ${weight}`);
    }
    // Argo's step-completed body is the Rollout as the reconcile found it: this step's index, the
    // weights from before the step (the lab saw 0/100 on setWeight 20's step-completed).
    const snapshot = structuredClone(live);
    live.status = this.status({ stepIndex: index, canaryWeight: weight, phase: 'Progressing' });
    this.write(live);
    if (this.mesh) {
      this.mesh.setWeight(weight);
      this.mesh.afterStep?.(index);
    } else if (controller.appliesWeightsAfterMs !== undefined && !controller.throttled) {
      this.note(
        `load balancer controller: busy, applies canary ${weight} / stable ${100 - weight} in ${controller.appliesWeightsAfterMs} ms`,
      );
      const delay = controller.appliesWeightsAfterMs;
      this.lateWeights = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() =>
        this.applyWeights(weight),
      );
    } else this.applyWeights(weight, { throttled: controller.throttled });

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
    // on-rollout-paused carries the Rollout at the pause step before the pause is persisted.
    const pausing = pauses
      ? {
          ...structuredClone(after),
          status: this.status({ stepIndex: next, canaryWeight: weight, phase: 'Progressing' }),
        }
      : undefined;
    this.write(after);
    await this.send('on-rollout-step-completed', snapshot, this.options.argoPostsTwice);
    if (pausing) {
      this.note(`Argo: paused at step ${next} (pause {}, CanaryPauseStep) until someone promotes`);
      await this.send('on-rollout-paused', pausing, this.options.argoPostsTwice);
    }
    // Argo reaches an analysis step at once and creates its AnalysisRun while the verifier is still
    // verifying the setWeight: the two run side by side, as in a cluster.
    if (nextStep !== undefined && 'analysis' in nextStep)
      await this.analysisStep(next, nextStep.analysis, this.live());
    await this.lateWeights;
  }

  /**
   * An inline analysis step: the AnalysisRun's outcome decides, without anyone outside Argo writing
   * to the Rollout. Successful: on to the next step. Failed or Error: Argo aborts the rollout itself.
   * Inconclusive: Argo pauses it (InconclusiveAnalysisRun) until a human promotes or aborts.
   */
  private async analysisStep(index: number, step: AnalysisStep, live: RolloutObject): Promise<void> {
    if (!this.ports.analysis) throw new Error(`${this.key}: an analysis step, and no analysis controller`);
    this.note(
      `Argo: step ${index} analysis: AnalysisRun of ${step.templates.map((t) => t.templateName).join(', ')} created`,
    );
    const run = await this.ports.analysis(live, step, index);
    for (const measurement of run.measurements) {
      this.note(
        `  AnalysisRun ${run.name}: web GET ${measurement.url.replace(/^https?:\/\/[^/]+/, '<gate>')} → ${measurement.status ?? 'no answer'} ${clipValue(measurement.value)} after ${(measurement.durationMs / 1000).toFixed(1)}s: measurement ${measurement.phase}`,
      );
    }
    const weight = this.weightAt(index);
    const current = this.live();
    if (run.phase === 'Successful') {
      this.note(`Argo: AnalysisRun ${run.name} Successful: on to step ${index + 1}`);
      // The analysis step is complete: like every step, it is notified with the Rollout as found.
      const completed = structuredClone(current);
      current.status = this.status({ stepIndex: index + 1, canaryWeight: weight, phase: 'Progressing' });
      this.write(current);
      await this.send('on-rollout-step-completed', completed, this.options.argoPostsTwice);
      return;
    }
    if (run.phase === 'Inconclusive') {
      this.note(
        `Argo: AnalysisRun ${run.name} Inconclusive: the rollout pauses (InconclusiveAnalysisRun) for a human`,
      );
      const status = this.status({ stepIndex: index, canaryWeight: weight, phase: 'Paused', paused: true });
      current.status = {
        ...status,
        message: 'InconclusiveAnalysisRun',
        pauseConditions: [{ reason: 'InconclusiveAnalysisRun', startTime: now() }],
      };
      this.write(current);
      return;
    }
    this.note(
      `Argo: AnalysisRun ${run.name} ${run.phase} (${run.message}): the controller aborts the rollout itself`,
    );
    current.status = { ...current.status, abort: true };
    await this.abort(this.write(current), `argo-rollouts (AnalysisRun ${run.name} ${run.phase})`);
  }

  /** The callback (or anyone) set status.abort: canary weight back to 0, then on-rollout-aborted. */
  private async abort(live: RolloutObject, abortedBy?: string): Promise<void> {
    this.aborted = true;
    const by = abortedBy ?? this.lastStatusWriter((status) => status.abort === true);
    const index = live.status?.currentStepIndex ?? 0;
    // Argo validates the resources a Rollout references before it reconciles anything else.
    const invalid = this.mesh?.invalidReference();
    if (invalid) {
      this.note(
        `Argo: status.abort set by ${by}, but the Rollout no longer validates (InvalidSpec: "${invalid}"): the abort is not reconciled — the weights stay as they are, no on-rollout-aborted is sent`,
      );
      const at = now();
      live.status = {
        ...live.status,
        phase: 'Degraded',
        message: `InvalidSpec: ${invalid}`,
        conditions: [
          ...(live.status?.conditions ?? []),
          {
            type: 'InvalidSpec',
            status: 'True',
            reason: 'InvalidSpec',
            message: invalid,
            lastTransitionTime: at,
            lastUpdateTime: at,
          },
        ],
      };
      this.write(live);
      return;
    }
    this.note(
      `Argo: status.abort set by ${by}: aborting revision ${this.revision}, canary weight back to 0 / stable 100`,
    );
    const snapshot = structuredClone(live);
    const status = this.status({ stepIndex: index, canaryWeight: 0, phase: 'Degraded' });
    this.mesh?.setWeight(0);
    live.status = {
      ...status,
      abort: true,
      abortedAt: now(),
      message: `RolloutAborted: Rollout aborted update to revision ${this.revision}`,
    };
    this.write(live);
    // The controller's earlier trouble was transient: Argo's abort weights go through.
    if (!this.mesh) this.applyWeights(0);
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
      if (!this.mesh) {
        this.ports.elb.registerHealthyTargets(
          this.alb.canaryTargetGroupArn,
          added.map((pod) => pod.ip),
        );
      }
      this.note(
        `Argo: all steps done: canary ReplicaSet ${this.canaryHash} scaled to ${replicas} pods${this.mesh ? ', ready' : ', registered'}`,
      );
      live.status = this.status({
        stepIndex: this.options.steps.length,
        canaryWeight: this.weightAt(this.options.steps.length),
        phase: 'Progressing',
      });
      live = this.write(live);
    }
    const snapshot = structuredClone(live);
    // Past the last step the canary takes maxTrafficWeight until the stable Service selects the new
    // pods (reconcileTrafficRouting; the lab sees canary 100 / stable 0 for a moment).
    if (this.mesh) this.mesh.setWeight(100);
    else if (!this.options.controller?.throttled) this.applyWeights(100);
    // The switch comes with a later reconcile: the state holds for a moment, as in a cluster.
    await new Promise((resolve) => setTimeout(resolve, END_OF_STEPS_HOLD_MS));
    this.note(
      `Argo: all steps done: revision ${this.revision} (${this.canaryHash}) becomes stable; the stable Service selects its ${this.newPods.length} pods`,
    );
    const old = this.stablePods;
    this.stablePods = this.newPods;
    this.endpointSlice(this.stableService, this.stablePods);
    if (this.mesh) {
      live.status = this.status({
        stepIndex: this.options.steps.length,
        canaryWeight: 0,
        phase: 'Healthy',
        promoted: true,
      });
      this.write(live);
      this.mesh.setWeight(0);
      this.note(`Argo: the old stable pods ${old.map((pod) => pod.ip).join(', ')} scale down`);
      await this.send('on-rollout-completed', snapshot, this.options.argoPostsTwice);
      return;
    }
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

// ── Mesh routing: Argo itself writes the weights (rollout/trafficrouting/istio, …/ambassador) ──────

interface MeshRollout {
  namespace: string;
  name: string;
  stableService: string;
  canaryService: string;
}

/** Argo's traffic router for a mesh: the weights go into the mesh's own objects in kube-sim. */
interface MeshRoutes {
  /** The Rollout's `spec.strategy.canary.trafficRouting`. */
  readonly trafficRouting: Record<string, unknown>;
  /** Where the stable pods get their traffic from, for the creation note. */
  readonly description: string;
  /** Argo's SetWeight for the canary (the stable side gets the rest of 100). */
  setWeight(canaryWeight: number): void;
  /** What happens to the routing objects right after step `index`, outside Argo. */
  afterStep?(index: number): void;
  /** Argo's validation of the referenced objects: the error that makes the Rollout InvalidSpec. */
  invalidReference(): string | undefined;
}

const ISTIO_API = 'networking.istio.io/v1';
const AMBASSADOR_API = 'getambassador.io/v2';
/** Argo v1.9's words (rollout/trafficrouting/istio: ValidateHTTPRoutes, getHttpRouteIndexesToPatch). */
const ISTIO_AMBIGUOUS =
  'spec.http[] should be set in VirtualService and it must have exactly one route when omitting spec.strategy.canary.trafficRouting.istio.virtualService.routes';

interface HttpRouteObject {
  name?: string;
  match?: unknown[];
  route: Array<{ destination: { host: string; port?: { number: number } }; weight?: number }>;
}

/** Host-level splitting: one VirtualService named after the Rollout, routing to its two Services. */
class IstioRoutes implements MeshRoutes {
  readonly trafficRouting: Record<string, unknown>;
  readonly description: string;
  private readonly resource: string;

  constructor(
    private readonly kube: KubeSim,
    private readonly rollout: MeshRollout,
    private readonly options: IstioRoutingOptions,
    private readonly note: (what: string) => void,
  ) {
    const { namespace, name, stableService, canaryService } = rollout;
    this.resource = `${namespace}/${name}`;
    const names = options.httpRoutes ?? [undefined];
    const http: HttpRouteObject[] = names.map((routeName) => ({
      ...(routeName ? { name: routeName } : {}),
      route: [
        { destination: { host: stableService, port: { number: 80 } }, weight: 100 },
        { destination: { host: canaryService, port: { number: 80 } }, weight: 0 },
      ],
    }));
    kube.put({
      apiVersion: ISTIO_API,
      kind: 'VirtualService',
      metadata: { name, namespace },
      spec: {
        hosts: [`${name}.example.com`, name],
        ...(options.gateways ? { gateways: options.gateways } : {}),
        http,
      },
    });
    this.trafficRouting = {
      istio: { virtualService: { name, ...(options.routes ? { routes: options.routes } : {}) } },
    };
    const gateways = options.gateways ? `gateways ${options.gateways.join(', ')}` : 'no gateways: mesh only';
    this.description = `behind VirtualService ${this.resource} (HTTP route ${http.map(label).join(', ')}; ${gateways})`;
  }

  private read(): { object: KubeObject; http: HttpRouteObject[] } {
    const object = this.kube.object(ISTIO_API, 'virtualservices', this.rollout.namespace, this.rollout.name);
    if (!object) throw new Error(`the VirtualService ${this.resource} is gone`);
    return { object, http: (object.spec as { http: HttpRouteObject[] }).http };
  }

  invalidReference(): string | undefined {
    const { http } = this.read();
    return (this.options.routes ?? []).length === 0 && http.length > 1 ? ISTIO_AMBIGUOUS : undefined;
  }

  setWeight(canaryWeight: number): void {
    const { object, http } = this.read();
    const { routes = [], controllerBeforeV19 } = this.options;
    let indexes: number[];
    if (routes.length > 0) {
      indexes = routes.map((routeName) => http.findIndex((route) => route.name === routeName));
    } else if (controllerBeforeV19) {
      // Argo < v1.9: "find index of the first empty named route"
      const unnamed = http.findIndex((route) => !route.name);
      indexes = unnamed < 0 ? [] : [unnamed];
    } else if (http.length === 1) {
      indexes = [0];
    } else {
      this.note(`Argo: cannot set the weights of VirtualService ${this.resource}: ${ISTIO_AMBIGUOUS}`);
      return;
    }
    if (indexes.length === 0) {
      this.note(
        `Argo (< v1.9): the rollout names no routes, so Argo updates the first unnamed HTTP route; VirtualService ${this.resource} has only ${http.map(label).join(', ')}: nothing is updated (argo-rollouts #3884), and Argo records canary ${canaryWeight} as set`,
      );
      return;
    }
    for (const index of indexes) {
      for (const entry of http[index]?.route ?? []) {
        if (entry.destination.host === this.rollout.canaryService) entry.weight = canaryWeight;
        if (entry.destination.host === this.rollout.stableService) entry.weight = 100 - canaryWeight;
      }
    }
    this.kube.put(object);
    this.note(
      `Argo: VirtualService ${this.resource}: HTTP route ${indexes.map((index) => label(http[index], index)).join(', ')} set to canary ${canaryWeight} / stable ${100 - canaryWeight}`,
    );
  }

  afterStep(index: number): void {
    if (this.options.routeAddedAfterStep !== index) return;
    const { object, http } = this.read();
    http.unshift({
      match: [{ uri: { prefix: '/v2/' } }],
      route: [{ destination: { host: this.rollout.stableService, port: { number: 80 } }, weight: 100 }],
    });
    this.kube.put(object);
    this.note(
      `GitOps sync: VirtualService ${this.resource} gains an unnamed HTTP route for /v2/ (to ${this.rollout.stableService}) ahead of Argo's: ${http.length} HTTP routes now, and the rollout names none`,
    );
  }
}

function label(route: HttpRouteObject | undefined, index: number): string {
  return route?.name ? `"${route.name}"` : `http[${index}] (unnamed)`;
}

/** A base Mapping `<rollout>-mapping`; Argo clones `<mapping>-canary` with the canary weight. */
class AmbassadorRoutes implements MeshRoutes {
  readonly trafficRouting: Record<string, unknown>;
  readonly description: string;
  private readonly base: string;
  private readonly canary: string;
  private readonly baseService: string;
  private exists = false;

  constructor(
    private readonly kube: KubeSim,
    private readonly rollout: MeshRollout,
    private readonly options: AmbassadorRoutingOptions,
    private readonly note: (what: string) => void,
  ) {
    const { namespace, name, stableService } = rollout;
    this.base = `${name}-mapping`;
    this.canary = `${this.base}-canary`;
    this.baseService = options.baseService ?? `https://${stableService}.${namespace}:8443`;
    kube.put(this.mapping(this.base, this.baseService));
    this.trafficRouting = { ambassador: { mappings: [this.base] } };
    this.description = `behind Mapping ${namespace}/${this.base} (prefix /${name}/ → ${this.baseService})`;
  }

  private mapping(name: string, service: string, weight?: number): KubeObject {
    return {
      apiVersion: AMBASSADOR_API,
      kind: 'Mapping',
      metadata: { name, namespace: this.rollout.namespace },
      spec: {
        prefix: `/${this.rollout.name}/`,
        service,
        ...(weight === undefined ? {} : { weight }),
      },
    };
  }

  invalidReference(): string | undefined {
    return undefined;
  }

  /** The canary Mapping's service as Argo builds it from the base Mapping's. */
  private canaryService(): { service: string; why: string } {
    const { stableService, canaryService } = this.rollout;
    if (this.options.controllerDropsSchemeAndNamespace) {
      // Argo before the fix: `<canary>:<port>` when the service ends in a port, else `<canary>`.
      const port = this.baseService.split(':').at(-1) ?? '';
      return {
        service: /^\d+$/.test(port) ? `${canaryService}:${port}` : canaryService,
        why: ' (argo-rollouts #3593: the scheme and the namespace are dropped)',
      };
    }
    const host = new RegExp(`^([a-z][a-z0-9+.-]*://)?${stableService}(?=[.:/]|$)`, 'i');
    if (!host.test(this.baseService)) {
      return {
        service: this.baseService,
        why: ` (the base service does not name ${stableService}: nothing to replace)`,
      };
    }
    return { service: this.baseService.replace(host, `$1${canaryService}`), why: '' };
  }

  setWeight(canaryWeight: number): void {
    const where = `${this.rollout.namespace}/${this.canary}`;
    if (canaryWeight === 0) {
      if (!this.exists) return;
      this.exists = false;
      this.kube.remove(AMBASSADOR_API, 'mappings', this.rollout.namespace, this.canary);
      this.note(`Argo: canary Mapping ${where} deleted (canary weight 0)`);
      return;
    }
    const { service, why } = this.canaryService();
    this.kube.put(this.mapping(this.canary, service, canaryWeight));
    this.note(
      this.exists
        ? `Argo: canary Mapping ${where} set to weight ${canaryWeight}`
        : `Argo: canary Mapping ${where} cloned from ${this.base}: weight ${canaryWeight}, service "${service}"${why}`,
    );
    this.exists = true;
  }
}

/**
 * A new revision of a Rollout as Argo's user applies it: the kube-sim fixture with this name,
 * namespace, revision, replica count and strategy (a merge patch: `null` removes the fixture's
 * own). The server fills uid, resourceVersion and creationTimestamp.
 */
function revisionObject(spec: {
  name: string;
  namespace: string;
  revision: number;
  replicas: number;
  annotations: Record<string, string> | undefined;
  readinessProbe: boolean;
  strategy: Record<string, unknown>;
}): RolloutObject {
  const { name, namespace, revision } = spec;
  return rolloutObject({
    metadata: {
      name,
      namespace,
      uid: null,
      resourceVersion: null,
      creationTimestamp: null,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': namespace },
      annotations: { 'rollout.argoproj.io/revision': String(revision), ...spec.annotations },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${name}:1.${revision}.0`,
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              // Inside an array a merge patch replaces, not merges: absent means absent.
              ...(spec.readinessProbe
                ? { readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 } }
                : {}),
            },
          ],
        },
      },
      strategy: spec.strategy,
    },
  });
}
