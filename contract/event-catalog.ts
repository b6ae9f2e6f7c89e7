/**
 * The names on the EventBridge bus: the one place both the runtime (lambdas/) and the
 * infrastructure (lib/) read them, so rules, handlers, the demo and tests can never disagree.
 * Dependency-free on purpose: lib/ must not pull runtime code, lambdas/ must not pull aws-cdk-lib.
 */

export const ROLLOUT_EVENT_SOURCE = 'rollout-verifier.ingest';
export const VERDICT_EVENT_SOURCE = 'rollout-verifier.verify';
/** The drift sentinel: a step verified earlier whose load balancer or routes no longer match. */
export const DRIFT_EVENT_SOURCE = 'rollout-verifier.sentinel';
export const DRIFT_DETAIL_TYPE = 'Rollout Verification Drift';

/** One detail-type per Argo Rollouts notification trigger the project subscribes to. */
export const ROLLOUT_DETAIL_TYPES = {
  'on-rollout-step-completed': 'Rollout Step Completed',
  'on-rollout-updated': 'Rollout Updated',
  'on-rollout-aborted': 'Rollout Aborted',
  'on-rollout-completed': 'Rollout Completed',
  'on-rollout-paused': 'Rollout Paused',
  'on-rollout-resumed': 'Rollout Resumed',
} as const;

export type RolloutTrigger = keyof typeof ROLLOUT_DETAIL_TYPES;
export type RolloutDetailType = (typeof ROLLOUT_DETAIL_TYPES)[RolloutTrigger];

/**
 * Not a notification: the Rollout as the API server holds it now (`kubectl get rollout -o json`,
 * `verify --rollout`). Its status is persisted, not the pre-transition snapshot a notification
 * carries, so the expected state is derived without the snapshot quirks. Never put on the bus.
 */
export const LIVE_TRIGGER = 'live';
export type EventTrigger = RolloutTrigger | typeof LIVE_TRIGGER;

export const VERDICTS = ['Succeeded', 'Failed', 'Inconclusive'] as const;
export type VerdictName = (typeof VERDICTS)[number];

export const verdictDetailType = (verdict: VerdictName) => `Rollout Verification ${verdict}` as const;

export const VERDICT_DETAIL_TYPES = VERDICTS.map(verdictDetailType);

/** EventBridge patterns: the verify function subscribes to rollout events, the callback to verdicts. */
export const ROLLOUT_EVENT_PATTERN = {
  source: [ROLLOUT_EVENT_SOURCE],
  'detail-type': Object.values(ROLLOUT_DETAIL_TYPES),
};

export const VERDICT_EVENT_PATTERN = {
  source: [VERDICT_EVENT_SOURCE],
  'detail-type': [...VERDICT_DETAIL_TYPES],
};

// ---- the traffic look (docs/traffic-observed.md) -------------------------------------------------

/**
 * The second look at an ALB step: the split the load balancer really served, from CloudWatch,
 * after the configuration verdict said the weights were right. Its own verdict kind with its own
 * source and detail-types, so nothing subscribed to configuration verdicts (the callback's abort
 * and promote policies) ever acts on it unless it subscribes on purpose.
 */
export const TRAFFIC_OBSERVED_KIND = 'traffic-observed' as const;
export const TRAFFIC_OBSERVED_EVENT_SOURCE = 'rollout-verifier.traffic';

export const trafficObservedDetailType = (verdict: VerdictName) =>
  `Rollout Traffic Observed ${verdict}` as const;

// Pure: a bundle that never reads these (verify, callback) drops them.
export const TRAFFIC_OBSERVED_DETAIL_TYPES = /* @__PURE__ */ VERDICTS.map(trafficObservedDetailType);

export const TRAFFIC_OBSERVED_EVENT_PATTERN = {
  source: [TRAFFIC_OBSERVED_EVENT_SOURCE],
  'detail-type': TRAFFIC_OBSERVED_DETAIL_TYPES,
};

/** What starts a traffic look: an ALB rollout's configuration verdict Succeeded (the weights were right). */
export const TRAFFIC_LOOK_TRIGGER_PATTERN = {
  source: [VERDICT_EVENT_SOURCE],
  'detail-type': [/* @__PURE__ */ verdictDetailType('Succeeded')],
  // One look per pause: on-rollout-paused marks a step whose weights then hold for a window (a
  // pause); the setWeight's own step-completed verdict and the pause's step-completed would look
  // at the same split again, and a step without a pause has no window to look at.
  detail: { traffic: { router: ['alb'] }, trigger: ['on-rollout-paused'] },
};

/**
 * Drift events (the sentinel's Failed re-verifications after a verdict that was not Failed). Not a
 * verdict pattern: the callback does not act on drift, alarms and your own rules do.
 */
export const DRIFT_EVENT_PATTERN = {
  source: [DRIFT_EVENT_SOURCE],
  'detail-type': [DRIFT_DETAIL_TYPE],
};
