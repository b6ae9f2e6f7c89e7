import type { VerdictEventDetail } from '../contracts/verdict-event.js';

/**
 * The per-Rollout metric the verify function publishes with every verdict: how far the rollout had
 * got in the state it verified (lambdas/verify/verdict-metrics.ts).
 */
export const VERIFIED_PROGRESS = 'VerifiedProgress';

/**
 * Where a verdict's state lies in the rollout's history, as one number that only grows: the
 * revision, then the step (a state the rollout had moved on to counts as that step), and an abort
 * after every step of its revision. Verdicts about one state (the setWeight's step-completed,
 * on-rollout-paused at the pause behind it, the pause's own step-completed) are at most one step
 * apart and never ahead of the pause; a next setWeight, an abort, the full promotion or a new
 * revision is ahead.
 */
export function rolloutProgress(verdict: VerdictEventDetail): number {
  const step = verdict.movedOn?.step.index ?? verdict.step.index;
  const aborted = verdict.trigger === 'on-rollout-aborted';
  return verdict.rollout.revision * 100_000 + (aborted ? 99_999 : step);
}

/**
 * When the rollout moved on, from the largest progress the verifier verified per minute: the
 * first minute, from the look's own on, in which a state ahead of the look's was verified (a next
 * step, an abort, the full promotion, a new revision). Verdicts about the look's own state or
 * earlier ones are no move, however they interleave. CloudWatch keeps minutes, so a move in the
 * look's own minute returns that minute: the look then has no whole minute to judge, which is
 * Inconclusive, never a mismatch. Undefined: nothing moved.
 */
export function movedOnAt(
  maximumProgressPerMinute: ReadonlyMap<number, number>,
  verdictMinute: number,
  ownProgress: number,
): number | undefined {
  let first: number | undefined;
  for (const [at, progress] of maximumProgressPerMinute) {
    if (at < verdictMinute || progress <= ownProgress) continue;
    if (first === undefined || at < first) first = at;
  }
  return first;
}
