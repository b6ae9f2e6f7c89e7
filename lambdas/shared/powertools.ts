import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * One Logger and one Metrics per function, configured from the environment
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rollout-verifier' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'RolloutVerifier',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rollout-verifier',
});

/** Metric dimension naming the workload: the Rollout, never one of its ReplicaSets. */
export const ROLLOUT_DIMENSION = 'Rollout';

/**
 * An event that failed its schema: counted, logged, and returned as the error to throw, so the
 * event lands in the dead-letter queue instead of vanishing. Nothing was acted on.
 */
export function invalidEvent(metricName: string, what: string, issues: string): Error {
  metrics.addMetric(metricName, MetricUnit.Count, 1);
  logger.error(`${what} failed validation`, { issues });
  return new Error(`invalid ${what}: ${issues}`);
}
