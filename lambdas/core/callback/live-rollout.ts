import { z } from 'zod';
import { REVISION_ANNOTATION } from '../normalize/notification-body.js';

/**
 * The parts of the live Rollout (GET before every action) the callback decides on. Loose: the
 * object carries far more, and a field this code does not read must not make it fail.
 */
export const LiveRollout = z
  .object({
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string(),
        uid: z.string(),
        resourceVersion: z.string().optional(),
        annotations: z.record(z.string(), z.string()).nullish(),
      })
      .loose(),
    spec: z
      .object({
        paused: z.boolean().nullish(),
        strategy: z
          .object({
            canary: z
              .object({ steps: z.array(z.record(z.string(), z.unknown())).nullish() })
              .loose()
              .nullish(),
            blueGreen: z.object({}).loose().nullish(),
          })
          .loose(),
      })
      .loose(),
    status: z
      .object({
        abort: z.boolean().nullish(),
        currentStepIndex: z.number().int().nullish(),
        pauseConditions: z.array(z.object({ reason: z.string() }).loose()).nullish(),
        controllerPause: z.boolean().nullish(),
        currentPodHash: z.string().nullish(),
        stableRS: z.string().nullish(),
        phase: z.string().nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();
export type LiveRollout = z.infer<typeof LiveRollout>;

export function revisionOf(rollout: LiveRollout): number | undefined {
  const value = rollout.metadata.annotations?.[REVISION_ANNOTATION];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function pauseReasons(rollout: LiveRollout): string[] {
  return (rollout.status?.pauseConditions ?? []).map((condition) => condition.reason);
}

export function isPaused(rollout: LiveRollout): boolean {
  return rollout.spec.paused === true || pauseReasons(rollout).length > 0;
}

/** The new revision already serves everything: there is nothing left to abort or promote. */
export function isFullyPromoted(rollout: LiveRollout): boolean {
  const { currentPodHash, stableRS } = rollout.status ?? {};
  return Boolean(currentPodHash) && currentPodHash === stableRS;
}

export function canarySteps(rollout: LiveRollout): Record<string, unknown>[] {
  return rollout.spec.strategy.canary?.steps ?? [];
}
