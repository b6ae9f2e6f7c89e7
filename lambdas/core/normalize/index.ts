export {
  type DerivedState,
  deriveExpectedState,
  lastSetWeightAtOrBefore,
  replicasForWeight,
  type StepPosition,
  setCanaryScaleAt,
} from './expected-state.js';
export {
  computeEventId,
  type EventIdentity,
  formatIssuePath,
  type NormalizeContext,
  type NotificationEvent,
  NotificationValidationError,
  normalizeLiveRollout,
  normalizeNotification,
  type ValidationIssue,
} from './normalize.js';
export {
  CanaryStep,
  DEADLINE_ANNOTATION,
  NotificationBody,
  NotificationRollout,
  REVISION_ANNOTATION,
  splitVirtualServiceName,
} from './notification-body.js';
export { buildTraffic, unsupportedRouters } from './traffic.js';
