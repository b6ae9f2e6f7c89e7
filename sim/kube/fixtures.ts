import { applyMergePatch, isJsonObject } from './merge-patch.js';
import type { KubeObject } from './naming.js';

/**
 * A Rollout as Argo Rollouts v1.9 stores it: shop/checkout, canary with ALB traffic routing, steps
 * setWeight 20 → pause 1m → setWeight 50 → pause {}, paused by the controller at step 1 (the timed
 * pause) with 20 % on the canary. Hashes and uid match test/support/rollout-events.ts. It validates
 * against the v1.9.1 CRD (see the kube-sim tests).
 */

export interface RolloutStatus {
  HPAReplicas?: number;
  abort?: boolean;
  abortedAt?: string;
  availableReplicas?: number;
  blueGreen?: Record<string, unknown>;
  canary?: {
    weights?: {
      canary: { podTemplateHash?: string; serviceName?: string; weight: number };
      stable: { podTemplateHash?: string; serviceName?: string; weight: number };
      verified?: boolean;
    };
  };
  conditions?: Array<{
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
    lastUpdateTime?: string;
  }>;
  controllerPause?: boolean;
  currentPodHash?: string;
  currentStepHash?: string;
  currentStepIndex?: number;
  message?: string;
  /** A string in Argo's status, unlike the usual integer. */
  observedGeneration?: string;
  pauseConditions?: Array<{ reason: string; startTime: string }>;
  phase?: string;
  readyReplicas?: number;
  replicas?: number;
  selector?: string;
  stableRS?: string;
  updatedReplicas?: number;
  [field: string]: unknown;
}

export interface RolloutObject extends KubeObject {
  spec: {
    replicas?: number;
    paused?: boolean;
    selector: { matchLabels: Record<string, string> };
    strategy: {
      canary?: {
        canaryService?: string;
        stableService?: string;
        steps?: Array<Record<string, unknown>>;
        trafficRouting?: Record<string, unknown>;
        [field: string]: unknown;
      };
      blueGreen?: Record<string, unknown>;
    };
    template: Record<string, unknown>;
    [field: string]: unknown;
  };
  status?: RolloutStatus;
}

/** A JSON merge patch (RFC 7386) on a Rollout: `null` removes a member, arrays replace whole. */
export type RolloutOverrides = Record<string, unknown>;

const PAUSED_AT = '2026-11-23T09:00:00Z';
const UPDATED_AT = '2026-11-23T08:59:12Z';

function defaultRollout(): RolloutObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f',
      resourceVersion: '48215302',
      generation: 3,
      creationTimestamp: '2026-10-02T14:21:07Z',
      labels: { 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'rollout.argoproj.io/revision': '3' },
    },
    spec: {
      replicas: 5,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: 'checkout' } },
      template: {
        metadata: { labels: { app: 'checkout' } },
        spec: {
          containers: [
            {
              name: 'checkout',
              image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.9.0',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              resources: { requests: { cpu: '250m', memory: '256Mi' } },
            },
          ],
        },
      },
      strategy: {
        canary: {
          canaryService: 'checkout-canary',
          stableService: 'checkout',
          maxSurge: '25%',
          maxUnavailable: 0,
          trafficRouting: { alb: { ingress: 'checkout', servicePort: 80 } },
          steps: [{ setWeight: 20 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }],
        },
      },
    },
    status: {
      HPAReplicas: 6,
      availableReplicas: 6,
      blueGreen: {},
      canary: {
        weights: {
          canary: { podTemplateHash: '6d4f8c9b7', serviceName: 'checkout-canary', weight: 20 },
          stable: { podTemplateHash: '5c7b9d8e6', serviceName: 'checkout', weight: 80 },
        },
      },
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'AvailableReason',
          message: 'Rollout has minimum availability',
          lastTransitionTime: '2026-10-02T14:22:40Z',
          lastUpdateTime: '2026-10-02T14:22:40Z',
        },
        {
          type: 'Completed',
          status: 'False',
          reason: 'RolloutCompleted',
          message: 'Rollout not completed, started update to revision 3 (6d4f8c9b7)',
          lastTransitionTime: UPDATED_AT,
          lastUpdateTime: UPDATED_AT,
        },
        {
          type: 'Healthy',
          status: 'False',
          reason: 'RolloutHealthy',
          message: 'Rollout is not healthy',
          lastTransitionTime: UPDATED_AT,
          lastUpdateTime: UPDATED_AT,
        },
        {
          type: 'Paused',
          status: 'True',
          reason: 'RolloutPaused',
          message: 'Rollout is paused',
          lastTransitionTime: PAUSED_AT,
          lastUpdateTime: PAUSED_AT,
        },
        {
          type: 'Progressing',
          status: 'Unknown',
          reason: 'RolloutPaused',
          message: 'Rollout is paused',
          lastTransitionTime: PAUSED_AT,
          lastUpdateTime: PAUSED_AT,
        },
      ],
      controllerPause: true,
      currentPodHash: '6d4f8c9b7',
      currentStepHash: '5f8d9c6b47',
      currentStepIndex: 1,
      message: 'CanaryPauseStep',
      observedGeneration: '3',
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: PAUSED_AT }],
      phase: 'Paused',
      readyReplicas: 6,
      replicas: 6,
      selector: 'app=checkout',
      stableRS: '5c7b9d8e6',
      updatedReplicas: 1,
    },
  };
}

/**
 * The default Rollout with `overrides` merged in as a JSON merge patch, e.g.
 * `rolloutObject({ metadata: { namespace: 'pay' }, status: { abort: true, pauseConditions: null } })`.
 */
export function rolloutObject(overrides: RolloutOverrides = {}): RolloutObject {
  const patched = applyMergePatch(defaultRollout(), overrides);
  if (!isJsonObject(patched)) throw new Error('rolloutObject: overrides must be a JSON object');
  return patched as RolloutObject;
}
