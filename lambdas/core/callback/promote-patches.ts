import { canarySteps, type LiveRollout } from './live-rollout.js';

export interface PromotePatches {
  /** Merge patch for the `status` subresource. */
  statusPatch?: Record<string, unknown>;
  /** Merge patch for the main resource. */
  specPatch?: Record<string, unknown>;
}

/**
 * The patches `kubectl argo rollouts promote` sends (pkg/kubectl-argo-rollouts/cmd/promote,
 * default mode): unpause the spec if it is paused; clear the pause conditions if there are any,
 * otherwise — a canary in the middle of an analysis or experiment step — advance the step index.
 * Status first, then spec, as the plugin does.
 */
export function promotePatches(rollout: LiveRollout): PromotePatches {
  const patches: PromotePatches = {};
  if (rollout.spec.paused) patches.specPatch = { spec: { paused: false } };
  if ((rollout.status?.pauseConditions ?? []).length > 0) {
    patches.statusPatch = { status: { pauseConditions: null } };
  } else if (canarySteps(rollout).length > 0) {
    const steps = canarySteps(rollout).length;
    const index = rollout.status?.currentStepIndex ?? 0;
    patches.statusPatch = { status: { pauseConditions: null, currentStepIndex: Math.min(index + 1, steps) } };
  }
  return patches;
}
