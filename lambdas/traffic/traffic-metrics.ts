import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { TrafficObservedEventDetail } from '../core/contracts/traffic-observed-event.js';
import { ROLLOUT_DIMENSION } from '../shared/powertools.js';

/** Service-wide counter names of the traffic look; the `TrafficObservedFailed` alarm reads the middle one. */
export const trafficCounter = (detail: TrafficObservedEventDetail) => `TrafficObserved${detail.verdict}`;

/**
 * The look's numbers: the counter service-wide (alarms) and per Rollout (dashboard), and per
 * Rollout the served canary share next to the configured one and each side's 5xx rate, in percent.
 */
export function recordTrafficMetrics(metrics: Metrics, detail: TrafficObservedEventDetail): void {
  const counter = trafficCounter(detail);
  metrics.addMetric(counter, MetricUnit.Count, 1);
  const rollout = `${detail.rollout.namespace}/${detail.rollout.name}`;
  const perRollout = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) => {
    const single = metrics.singleMetric();
    single.addDimension(ROLLOUT_DIMENSION, rollout);
    single.addMetric(name, unit, value);
  };
  perRollout(counter, MetricUnit.Count, 1);
  perRollout('ConfiguredCanaryShare', MetricUnit.Percent, detail.configuredShare * 100);
  if (detail.observedShare !== undefined) {
    perRollout('ServedCanaryShare', MetricUnit.Percent, detail.observedShare * 100);
  }
  for (const side of detail.sides) {
    if (side.errorRate === undefined) continue;
    perRollout(
      side.role === 'canary' ? 'Canary5xxRate' : 'Stable5xxRate',
      MetricUnit.Percent,
      side.errorRate * 100,
    );
  }
}
