import type { VerdictEventDetail } from '../contracts/verdict-event.js';
import {
  canarySteps,
  isFullyPromoted,
  isPaused,
  type LiveRollout,
  pauseReasons,
  revisionOf,
} from './live-rollout.js';
import type { CallbackPolicy } from './policy.js';
import { promotePatches } from './promote-patches.js';

/**
 * What to do to the live Rollout about one verdict. Pure: the orchestration GETs the Rollout,
 * asks this, and re-asks after a conflict. Every "none" says why, for the Event and the log.
 */
export type Decision =
  | { action: 'abort'; statusPatch: Record<string, unknown>; reason: string; preconditions: Preconditions }
  | {
      action: 'promote';
      statusPatch?: Record<string, unknown>;
      specPatch?: Record<string, unknown>;
      reason: string;
      preconditions: Preconditions;
    }
  | { action: 'none'; reason: string; wanted?: 'abort' | 'promote' };

/** Sent in `metadata` of a merge patch: the API server answers 409 if the Rollout changed after the GET. */
export interface Preconditions {
  uid: string;
  resourceVersion?: string;
}

/** Verdicts that say the verifier was superseded, not that it could not see: never a reason to abort. */
const SUPERSEDED_CODES = new Set(['RolloutMovedOn', 'AmbiguousState']);

const INCONCLUSIVE_ANALYSIS = 'InconclusiveAnalysisRun';

/**
 * Verdicts on a step's own traffic. An `on-rollout-updated` verdict verifies the reset a new
 * revision starts with (canary 0, "step 0" only by position), `on-rollout-completed` and
 * `on-rollout-aborted` the ends: none of them verified the weight a pause stands behind, so none
 * may release it (the lab saw an updated verdict promote a rollout whose weights were never applied).
 */
const STEP_TRIGGERS: ReadonlySet<string> = new Set([
  'on-rollout-step-completed',
  'on-rollout-paused',
  'on-rollout-resumed',
  'live',
]);

export function decide(verdict: VerdictEventDetail, live: LiveRollout, policy: CallbackPolicy): Decision {
  const wanted = wantedAction(verdict, policy);
  if (!wanted) return { action: 'none', reason: noActionReason(verdict) };
  const skip = (reason: string): Decision => ({ action: 'none', reason, wanted });

  if (live.metadata.uid !== verdict.rollout.uid) {
    return skip(
      `the Rollout was re-created (uid ${live.metadata.uid}); the verdict is about uid ${verdict.rollout.uid}`,
    );
  }
  const liveRevision = revisionOf(live);
  if (liveRevision !== verdict.rollout.revision) {
    return skip(
      `the Rollout is at revision ${liveRevision ?? '(none)'} now; the verdict is about revision ${verdict.rollout.revision}`,
    );
  }
  if (live.status?.abort) return skip('the Rollout is already aborted');

  const preconditions = { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion };

  if (wanted === 'abort') {
    if (isFullyPromoted(live))
      return skip('the revision is already fully promoted: there is nothing to abort');
    const codes = [...new Set(verdict.findings.map((finding) => finding.code))].join(', ');
    return {
      action: 'abort',
      statusPatch: { status: { abort: true } },
      preconditions,
      reason: `verification of step ${verdict.step.index} ended ${verdict.verdict} at its ${verdict.deadlineSeconds} s deadline (${codes || 'no findings'})`,
    };
  }

  if (!STEP_TRIGGERS.has(verdict.trigger ?? '')) {
    return skip(
      `a verdict on ${verdict.trigger ?? 'an event of unknown trigger'} verifies no step's traffic: only the verdict of the step a pause stands behind may release it`,
    );
  }
  if (verdict.movedOn) {
    return skip(
      `the Rollout had moved on to step ${verdict.movedOn.step.index} during the verification: that step's own verdict decides`,
    );
  }
  if (!isPaused(live)) return skip('the Rollout is not paused: there is nothing to promote');
  const reasons = pauseReasons(live);
  if (reasons.includes(INCONCLUSIVE_ANALYSIS) && !policy.promoteInconclusiveAnalysis) {
    return skip(
      'the Rollout is paused for an inconclusive analysis, which a traffic verdict does not settle: promote it by hand, or set rollout-verifier.io/promote-inconclusive-analysis: "true"',
    );
  }
  const stepProblem = verifiedStepProblem(verdict, live);
  if (stepProblem) return skip(stepProblem);
  const patches = promotePatches(live);
  return {
    action: 'promote',
    ...patches,
    preconditions,
    reason: `step ${verdict.step.index} verified (${reasons.join(', ') || 'spec.paused'})`,
  };
}

function wantedAction(verdict: VerdictEventDetail, policy: CallbackPolicy): 'abort' | 'promote' | undefined {
  switch (verdict.verdict) {
    case 'Succeeded':
      return policy.promoteOnSuccess ? 'promote' : undefined;
    case 'Failed':
      return policy.abortOnFailure ? 'abort' : undefined;
    case 'Inconclusive':
      return policy.abortOnInconclusive &&
        !verdict.findings.every((finding) => SUPERSEDED_CODES.has(finding.code))
        ? 'abort'
        : undefined;
  }
}

function noActionReason(verdict: VerdictEventDetail): string {
  switch (verdict.verdict) {
    case 'Succeeded':
      return 'promote on success is off';
    case 'Failed':
      return 'abort on failure is off';
    case 'Inconclusive':
      return 'an Inconclusive verdict aborts nothing unless abort-on-inconclusive is on';
  }
}

/**
 * A promote may only release the pause the verified traffic state stands behind: the Rollout is at
 * the verified step, or only pauses lie between it and the current step (setWeight 20 verified,
 * then `pause: {}`). A later setWeight means the verdict is about traffic that no longer applies.
 */
function verifiedStepProblem(verdict: VerdictEventDetail, live: LiveRollout): string | undefined {
  if (!live.spec.strategy.canary) return undefined;
  const verified = verdict.step.index;
  const current = live.status?.currentStepIndex ?? 0;
  if (current < verified) return `the Rollout is at step ${current}, before the verified step ${verified}`;
  const between = canarySteps(live).slice(verified + 1, current + 1);
  const moved = between.findIndex((step) => !('pause' in step));
  if (moved >= 0) {
    return `the Rollout moved past the verified step ${verified} (step ${verified + 1 + moved} changes the traffic)`;
  }
  return undefined;
}
