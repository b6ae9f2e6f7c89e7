import type { AnalysisStep } from '../argo-analysis.js';
import type { RolloutObject } from '../kube/index.js';
import { clipValue, END_OF_STEPS_HOLD_MS, now, podHash, revisionObject, suffix } from './helpers.js';
import { AmbassadorRoutes, IstioRoutes, type MeshRoutes } from './mesh-routes.js';
import type { CanaryRolloutOptions, ClusterPorts, Pod } from './options.js';
import { RolloutBase } from './rollout-base.js';

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
    // Every step done: the Rollout is Healthy, promoted, traffic back on stable.
    const markPromoted = () => {
      live.status = this.status({
        stepIndex: this.options.steps.length,
        canaryWeight: 0,
        phase: 'Healthy',
        promoted: true,
      });
      this.write(live);
    };
    const old = this.stablePods;
    this.stablePods = this.newPods;
    this.endpointSlice(this.stableService, this.stablePods);
    if (this.mesh) {
      markPromoted();
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
    markPromoted();
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
