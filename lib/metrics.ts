import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions, Stats } from 'aws-cdk-lib/aws-cloudwatch';

/** The CloudWatch namespace of every metric the functions emit (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'RolloutVerifier';

/** The counters the verify function emits per verdict (lambdas/verify/verdict-metrics.ts). */
export const VERDICT_METRIC_NAMES = {
  succeeded: 'VerificationSucceeded',
  failed: 'VerificationFailed',
  inconclusive: 'VerificationInconclusive',
  /** Inconclusive only because the rollout moved on while it was verified: normal progress. */
  superseded: 'VerificationSuperseded',
  /** Stale events and rollouts without traffic routing, not judged. */
  skipped: 'VerificationSkipped',
} as const;

/** The counters the traffic function emits per look (lambdas/traffic/traffic-metrics.ts). */
export const TRAFFIC_OBSERVED_METRIC_NAMES = {
  succeeded: 'TrafficObservedSucceeded',
  failed: 'TrafficObservedFailed',
  inconclusive: 'TrafficObservedInconclusive',
} as const;

/** Per Rollout, in percent: the served canary share next to the configured one, and each side's 5xx rate. */
export const TRAFFIC_SHARE_METRICS = {
  served: 'ServedCanaryShare',
  configured: 'ConfiguredCanaryShare',
  canary5xx: 'Canary5xxRate',
  stable5xx: 'Stable5xxRate',
} as const;

/** Verify's time from the event to the verdict, in milliseconds. */
export const TIME_TO_VERDICT_METRIC = 'TimeToVerdictMs';

/**
 * A metric of one verifier: its namespace and its `service` dimension (the aggregate the functions
 * emit besides the per-Rollout ones), the sum over 5 minutes unless `options` say otherwise.
 */
export function verifierMetric(serviceName: string, metricName: string, options: MetricOptions = {}): Metric {
  return new Metric({
    statistic: Stats.SUM,
    period: Duration.minutes(5),
    ...options,
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: serviceName, ...options.dimensionsMap },
  });
}
