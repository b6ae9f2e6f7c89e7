import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RolloutEventDetail } from '../core/contracts/rollout-event.js';
import type { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { rolloutProgress, VERIFIED_PROGRESS } from '../core/traffic/moved-on.js';
import { ROLLOUT_DIMENSION } from '../shared/powertools.js';

/**
 * The operator-facing numbers of one verdict. Counts go out twice: per Rollout (dashboards) and
 * for the whole service (alarms that must not depend on knowing every rollout's name).
 */
export function recordVerdictMetrics(
  metrics: Metrics,
  event: RolloutEventDetail,
  verdict: VerdictEventDetail,
): void {
  const counter = verdictCounter(verdict);
  metrics.addMetric(counter, MetricUnit.Count, 1);
  metrics.addMetric('TimeToVerdictMs', MetricUnit.Milliseconds, verdict.durationMs);

  const rollout = `${event.rollout.namespace}/${event.rollout.name}`;
  // A single metric publishes (and forgets its dimensions) on addMetric: one per value.
  const perRollout = (name: string, value: number) => {
    const single = metrics.singleMetric();
    single.addDimension(ROLLOUT_DIMENSION, rollout);
    single.addMetric(name, MetricUnit.Count, value);
  };
  perRollout(counter, 1);
  // The traffic look reads its Maximum per minute: a minute in which a state ahead of the look's was
  // verified is where the rollout moved on (lambdas/core/traffic/moved-on.ts).
  perRollout(VERIFIED_PROGRESS, rolloutProgress(verdict));
  perRollout('WeightDrift', weightDrift(event, verdict));
  perRollout('UnhealthyCanaryTargets', unhealthyCanaryTargets(verdict));
}

/** A moved-on rollout is normal progress: counted apart so the Inconclusive alarm stays meaningful. */
export function verdictCounter(verdict: VerdictEventDetail): string {
  const movedOn =
    verdict.findings.length > 0 && verdict.findings.every((finding) => finding.code === 'RolloutMovedOn');
  if (verdict.verdict === 'Inconclusive' && movedOn) {
    return 'VerificationSuperseded';
  }
  return `Verification${verdict.verdict}`;
}

/** The largest distance between the expected and the observed canary weight over all routes, in the rollout's units. */
export function weightDrift(event: RolloutEventDetail, verdict: VerdictEventDetail): number {
  const maxWeight = event.expected.maxWeight;
  const drifts = (verdict.evidence?.routes ?? []).map((route) => {
    const total = route.destinations.reduce((sum, destination) => sum + destination.weight, 0);
    const canary = route.destinations
      .filter((destination) => destination.role === 'canary')
      .reduce((sum, destination) => sum + destination.weight, 0);
    const observed = total === 0 ? 0 : (canary * maxWeight) / total;
    return Math.abs(observed - event.expected.canaryWeight);
  });
  return Math.round(Math.max(0, ...drifts));
}

export function unhealthyCanaryTargets(verdict: VerdictEventDetail): number {
  return (verdict.evidence?.backends ?? [])
    .filter((backend) => backend.role === 'canary')
    .reduce((sum, backend) => sum + (backend.targets.unhealthy ?? 0), 0);
}
