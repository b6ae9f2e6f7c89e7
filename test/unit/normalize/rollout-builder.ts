import { readFileSync } from 'node:fs';
import { NotificationRollout } from '../../../lambdas/core/normalize/notification-body.js';

/** A notification body from test/fixtures/notifications, parsed fresh for every call. */
export function fixture(
  name: string,
): { trigger: string; rollout: Record<string, unknown> } & Record<string, unknown> {
  const url = new URL(`../../fixtures/notifications/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** The canary steps most cases use: two 20 % steps apart, an indefinite pause after the first. */
export const STEPS = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 40 },
  { pause: { duration: '30s' } },
  { setWeight: 60 },
  { pause: { duration: 30 } },
  { setWeight: 80 },
  { pause: { duration: '1m' } },
];

export interface CanaryOptions {
  steps?: unknown[];
  /** status.currentStepIndex; null leaves it out. */
  index?: number | null;
  replicas?: number;
  /** status.updatedReplicas (pods of the new ReplicaSet). */
  updated?: number;
  /** status.replicas; defaults to replicas + updated. */
  total?: number;
  /** status.availableReplicas; defaults to total. */
  available?: number;
  stableRS?: string | null;
  currentPodHash?: string;
  abort?: boolean;
  promoteFull?: boolean;
  /** status.canary.weights canary/stable. */
  weights?: [number, number];
  additional?: number[];
  /** spec.strategy.canary.trafficRouting; null for a canary without traffic routing. */
  routing?: Record<string, unknown> | null;
  specPaused?: boolean;
  pauseReasons?: string[];
  dynamicStableScale?: boolean;
  minPodsPerReplicaSet?: number;
  revision?: string;
  replicaProgressThreshold?: { type: 'Percent' | 'Pods'; value: number };
  /** canary.pingPong with these two Services instead of canaryService/stableService. */
  pingPong?: { pingService: string; pongService: string };
  /** status.canary.stablePingPong. */
  stablePingPong?: 'ping' | 'pong';
  /** status.canary.weights.canary.podTemplateHash (default: canary1). */
  appliedCanaryHash?: string;
}

/** A canary Rollout as the notification carries it, validated by the body schema. */
export function canaryRollout(options: CanaryOptions = {}): NotificationRollout {
  const replicas = options.replicas ?? 10;
  const updated = options.updated ?? 0;
  const total = options.total ?? replicas + updated;
  const routing =
    options.routing === null
      ? undefined
      : (options.routing ?? { alb: { ingress: 'checkout', servicePort: 80, rootService: 'checkout-root' } });
  const status: Record<string, unknown> = {
    currentPodHash: options.currentPodHash ?? 'canary1',
    observedGeneration: '12',
    phase: 'Progressing',
    replicas: total,
    updatedReplicas: updated,
    readyReplicas: options.available ?? total,
    availableReplicas: options.available ?? total,
  };
  if (options.index !== null) status.currentStepIndex = options.index ?? 0;
  if (options.stableRS !== null) status.stableRS = options.stableRS ?? 'stable1';
  if (options.abort !== undefined) status.abort = options.abort;
  if (options.promoteFull !== undefined) status.promoteFull = options.promoteFull;
  if (options.pauseReasons) {
    status.pauseConditions = options.pauseReasons.map((reason) => ({
      reason,
      startTime: '2025-11-20T10:00:00Z',
    }));
  }
  if (options.weights || options.stablePingPong) status.canary = {};
  if (options.stablePingPong)
    (status.canary as Record<string, unknown>).stablePingPong = options.stablePingPong;
  if (options.weights) {
    status.canary = {
      ...(status.canary as Record<string, unknown>),
      weights: {
        canary: {
          weight: options.weights[0],
          podTemplateHash: options.appliedCanaryHash ?? 'canary1',
          serviceName: 'checkout-canary',
        },
        stable: { weight: options.weights[1], podTemplateHash: 'stable1', serviceName: 'checkout-stable' },
        ...(options.additional
          ? {
              additional: options.additional.map((weight, index) => ({
                weight,
                serviceName: `checkout-experiment-${index}`,
                podTemplateHash: `exp${index}`,
              })),
            }
          : {}),
        verified: true,
      },
    };
  }
  return NotificationRollout.parse({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: '3f1c2a9e-7d4b-4c1e-9a55-0b6c2f8e1d27',
      resourceVersion: '48211937',
      generation: 12,
      annotations: { 'rollout.argoproj.io/revision': options.revision ?? '5' },
    },
    spec: {
      replicas,
      ...(options.specPaused !== undefined ? { paused: options.specPaused } : {}),
      strategy: {
        canary: {
          ...(options.pingPong
            ? { pingPong: options.pingPong }
            : { canaryService: 'checkout-canary', stableService: 'checkout-stable' }),
          steps: options.steps ?? STEPS,
          ...(routing ? { trafficRouting: routing } : {}),
          ...(options.dynamicStableScale !== undefined
            ? { dynamicStableScale: options.dynamicStableScale }
            : {}),
          ...(options.minPodsPerReplicaSet !== undefined
            ? { minPodsPerReplicaSet: options.minPodsPerReplicaSet }
            : {}),
          ...(options.replicaProgressThreshold
            ? { replicaProgressThreshold: options.replicaProgressThreshold }
            : {}),
        },
      },
    },
    status,
  });
}

/** A blue-green Rollout with 3 replicas. */
export function blueGreenRollout(status: Record<string, unknown> = {}): NotificationRollout {
  return NotificationRollout.parse({
    metadata: {
      name: 'payments',
      namespace: 'finance',
      uid: 'e2d4f6a8-1b3c-4d5e-9f7a-8b9c0d1e2f3a',
      annotations: { 'rollout.argoproj.io/revision': '9' },
    },
    spec: {
      replicas: 3,
      strategy: { blueGreen: { activeService: 'payments-active', previewService: 'payments-preview' } },
    },
    status: { currentPodHash: 'new1', stableRS: 'old1', ...status },
  });
}
