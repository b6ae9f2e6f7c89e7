import type { LiveRollout } from './live-rollout.js';

/** What the callback does with a verdict, globally (function settings) and per Rollout (annotations). */
export interface CallbackPolicy {
  abortOnFailure: boolean;
  /** Off by default: an Inconclusive verdict means the verifier could not see, not that the release is bad. */
  abortOnInconclusive: boolean;
  promoteOnSuccess: boolean;
  /** Promote also past an `InconclusiveAnalysisRun` pause, which otherwise waits for a human. */
  promoteInconclusiveAnalysis: boolean;
}

/** Per-Rollout switches; each overrides the function-wide setting when it is "true" or "false". */
export const POLICY_ANNOTATIONS = {
  abortOnFailure: 'rollout-verifier.io/abort-on-failure',
  abortOnInconclusive: 'rollout-verifier.io/abort-on-inconclusive',
  promoteOnSuccess: 'rollout-verifier.io/promote-on-success',
  promoteInconclusiveAnalysis: 'rollout-verifier.io/promote-inconclusive-analysis',
} as const satisfies Record<keyof CallbackPolicy, string>;

export interface EffectivePolicy {
  policy: CallbackPolicy;
  /** Annotations that were set to something other than "true"/"false" and were ignored. */
  ignored: string[];
}

export function effectivePolicy(global: CallbackPolicy, rollout: LiveRollout): EffectivePolicy {
  const annotations = rollout.metadata.annotations ?? {};
  const policy = { ...global };
  const ignored: string[] = [];
  for (const key of Object.keys(POLICY_ANNOTATIONS) as (keyof CallbackPolicy)[]) {
    const annotation = POLICY_ANNOTATIONS[key];
    const value = annotations[annotation];
    if (value === undefined) continue;
    if (value === 'true' || value === 'false') policy[key] = value === 'true';
    else ignored.push(`${annotation}=${JSON.stringify(value)} (expected "true" or "false")`);
  }
  return { policy, ignored };
}
