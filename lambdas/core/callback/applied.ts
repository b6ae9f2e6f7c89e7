import type { Decision } from './decide.js';
import type { LiveRollout } from './live-rollout.js';

/**
 * Whether the live Rollout shows the change a decision wrote, for a write whose answer was lost
 * (reset, timeout) and whose retry met a 409: the first attempt may have landed, and the 409 is
 * then about our own change. Only the fields our patch set are read, on the same Rollout object.
 */
export function showsOwnChange(decision: Decision, decidedOn: LiveRollout, live: LiveRollout): boolean {
  if (decision.action === 'none' || live.metadata.uid !== decidedOn.metadata.uid) return false;
  if (decision.action === 'abort') return live.status?.abort === true;
  const status = (decision.statusPatch?.status ?? {}) as { currentStepIndex?: number };
  if (status.currentStepIndex !== undefined) {
    return (live.status?.currentStepIndex ?? 0) >= status.currentStepIndex;
  }
  // Pause conditions cleared: none left, or the controller already moved on from the step.
  return (
    (live.status?.pauseConditions ?? []).length === 0 ||
    (live.status?.currentStepIndex ?? 0) > (decidedOn.status?.currentStepIndex ?? 0)
  );
}
