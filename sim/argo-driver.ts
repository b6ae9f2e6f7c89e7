import { randomUUID } from 'node:crypto';
import type { RolloutTrigger } from '../contract/event-catalog.js';
import type { AnalysisStep } from './argo-analysis.js';

/**
 * Plays the Argo Rollouts controller: holds one Rollout and renders the notification bodies the
 * project's ConfigMap templates send (`{"trigger": "<name>", "rollout": {{toJson .rollout}}}`),
 * with the controller's pre-transition snapshots (on step-completed, currentStepIndex is the
 * step that just finished).
 */

export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: string | number } }
  /** An inline analysis step: an AnalysisRun of these templates must succeed before the next step. */
  | { analysis: AnalysisStep };

export interface CanaryRolloutSpec {
  namespace: string;
  name: string;
  replicas: number;
  steps: CanaryStep[];
  ingress: string;
  stableService: string;
  canaryService: string;
  servicePort?: number;
  revision?: number;
}

export interface BlueGreenRolloutSpec {
  namespace: string;
  name: string;
  replicas: number;
  activeService: string;
  previewService: string;
  /** The annotation the verifier reads to find the ALB of a blue-green rollout. */
  ingress: string;
  revision?: number;
}

export interface NotificationBody {
  trigger: RolloutTrigger;
  rollout: Record<string, unknown>;
}

/**
 * The body a notification template sends for a Rollout as the controller holds it: the trigger
 * name hard-coded in the template, and `{{toJson .rollout}}` — the whole object (here: as stored
 * in kube-sim, so the body and the cluster agree by construction).
 */
export function notificationOf(trigger: RolloutTrigger, rollout: object): NotificationBody {
  return { trigger, rollout: structuredClone(rollout) as Record<string, unknown> };
}

let resourceVersion = 48_000_000;

function metadata(spec: { namespace: string; name: string; revision?: number }, uid: string, extra = {}) {
  return {
    name: spec.name,
    namespace: spec.namespace,
    uid,
    resourceVersion: String(++resourceVersion),
    generation: 3,
    annotations: { 'rollout.argoproj.io/revision': String(spec.revision ?? 2), ...extra },
  };
}

export class CanaryRolloutDriver {
  readonly uid = randomUUID();

  constructor(readonly spec: CanaryRolloutSpec) {}

  /** The canary weight the controller has applied once `index` is reached (last setWeight at or before it). */
  weightAt(index: number): number {
    for (let at = Math.min(index, this.spec.steps.length - 1); at >= 0; at--) {
      const step = this.spec.steps[at];
      if (step && 'setWeight' in step) return step.setWeight;
    }
    return 0;
  }

  stepCompleted(index: number): NotificationBody {
    return this.body('on-rollout-step-completed', index, { appliedWeight: this.weightAt(index) });
  }

  paused(index: number): NotificationBody {
    return this.body('on-rollout-paused', index, {
      appliedWeight: this.weightAt(index),
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: new Date().toISOString() }],
    });
  }

  aborted(index: number): NotificationBody {
    return this.body('on-rollout-aborted', index, { appliedWeight: this.weightAt(index), abort: true });
  }

  private body(
    trigger: RolloutTrigger,
    index: number,
    state: { appliedWeight: number; abort?: boolean; pauseConditions?: unknown[] },
  ): NotificationBody {
    const { spec } = this;
    const canaryReplicas = Math.ceil((spec.replicas * state.appliedWeight) / 100);
    return {
      trigger,
      rollout: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: metadata(spec, this.uid),
        spec: {
          replicas: spec.replicas,
          strategy: {
            canary: {
              stableService: spec.stableService,
              canaryService: spec.canaryService,
              steps: spec.steps,
              trafficRouting: { alb: { ingress: spec.ingress, servicePort: spec.servicePort ?? 80 } },
            },
          },
        },
        status: {
          phase: state.abort ? 'Degraded' : 'Paused',
          currentStepIndex: index,
          currentPodHash: '6d4f8c9b7',
          stableRS: '5c7b9d8e6',
          observedGeneration: '3',
          replicas: spec.replicas + canaryReplicas,
          updatedReplicas: canaryReplicas,
          readyReplicas: spec.replicas + canaryReplicas,
          availableReplicas: spec.replicas + canaryReplicas,
          ...(state.abort ? { abort: true } : {}),
          ...(state.pauseConditions ? { pauseConditions: state.pauseConditions } : {}),
          canary: {
            weights: {
              canary: {
                weight: state.appliedWeight,
                podTemplateHash: '6d4f8c9b7',
                serviceName: spec.canaryService,
              },
              stable: {
                weight: 100 - state.appliedWeight,
                podTemplateHash: '5c7b9d8e6',
                serviceName: spec.stableService,
              },
              verified: true,
            },
          },
        },
      },
    };
  }
}

export class BlueGreenRolloutDriver {
  readonly uid = randomUUID();

  constructor(readonly spec: BlueGreenRolloutSpec) {}

  /** After promotion the active Service selects the new ReplicaSet; stableRS still names the old one. */
  completed(): NotificationBody {
    const { spec } = this;
    return {
      trigger: 'on-rollout-completed',
      rollout: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: metadata(spec, this.uid, { 'rollout-verifier.io/alb-ingresses': spec.ingress }),
        spec: {
          replicas: spec.replicas,
          strategy: { blueGreen: { activeService: spec.activeService, previewService: spec.previewService } },
        },
        status: {
          phase: 'Healthy',
          currentPodHash: '7f8e9d0c1',
          stableRS: '5c7b9d8e6',
          observedGeneration: '3',
          replicas: spec.replicas * 2,
          updatedReplicas: spec.replicas,
          readyReplicas: spec.replicas * 2,
          availableReplicas: spec.replicas * 2,
          blueGreen: { activeSelector: '7f8e9d0c1', previewSelector: '7f8e9d0c1' },
        },
      },
    };
  }
}
