export { Alarms } from './alarms.js';
export { Callback } from './callback.js';
export { ClusterAccess } from './cluster-access.js';
export { CONTEXT_KEYS, settingsFromContext } from './context.js';
export { OperationsDashboard, perRolloutSearch, ROLLOUT_DIMENSION } from './dashboard.js';
export { DeadLetterQueue } from './dead-letter-queue.js';
export { toEventPattern, VerifierEvents } from './events.js';
export { AnalysisGate, type AnalysisGateProps } from './gate.js';
export { VerdictHistory, type VerdictHistoryProps } from './history.js';
export { Ingest } from './ingest.js';
export {
  METRICS_NAMESPACE,
  TIME_TO_VERDICT_METRIC,
  VERDICT_METRIC_NAMES,
  verifierMetric,
} from './metrics.js';
export { nagAcknowledgements } from './nag.js';
export { type OnVerdictOptions, RolloutVerifier } from './rollout-verifier.js';
export { RolloutVerifierStack, type RolloutVerifierStackProps } from './rollout-verifier-stack.js';
export { DriftSentinel, type DriftSentinelProps } from './sentinel.js';
export * from './settings.js';
export { StateTable } from './state-table.js';
export { BUNDLING, VerifierFunction } from './verifier-function.js';
export { Verify } from './verify.js';
