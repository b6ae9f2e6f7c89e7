import type {
  ServedSide,
  TrafficFinding,
  TrafficObservedEventDetail,
} from '../contracts/traffic-observed-event.js';
import type { Verdict } from '../contracts/verdict-event.js';
import {
  pairedDifferenceTest,
  requestsForHalfWidth,
  twoProportionZTest,
  wilsonInterval,
} from './statistics.js';

/** One minute of one target group, as CloudWatch publishes it. */
export interface MinutePoint {
  /** Start of the minute (epoch ms). */
  at: number;
  requests: number;
  errors5xx: number;
  /** Average TargetResponseTime of the minute; absent when the target group answered nothing. */
  latencySeconds?: number;
}

export interface ServedSeries {
  role: 'canary' | 'stable';
  /** The target group ARN. */
  resource: string;
  points: readonly MinutePoint[];
}

export interface ServedSplitSettings {
  /** Share points the 95 % interval may miss the configured share by before it is a mismatch. */
  tolerance: number;
  /** Never judge on fewer requests than this, whatever the interval formula says. */
  minRequests: number;
}

export const DEFAULT_SERVED_SPLIT_SETTINGS: ServedSplitSettings = { tolerance: 0.05, minRequests: 100 };

export interface ServedSplitInput {
  /** canaryWeight / (canaryWeight + stableWeight). */
  configuredShare: number;
  loadBalancer: string;
  canary: ServedSeries;
  stable: ServedSeries;
}

export type ServedSplitJudgement = Pick<
  TrafficObservedEventDetail,
  | 'verdict'
  | 'findings'
  | 'configuredShare'
  | 'observedShare'
  | 'interval'
  | 'tolerance'
  | 'requiredRequests'
  | 'sides'
  | 'errorRateZ'
  | 'latencyDifference'
>;

/**
 * The pure judge of the traffic look. Failed (ObservedSplitMismatch) only when enough requests
 * were served and the whole 95 % Wilson interval of the canary share lies more than `tolerance`
 * away from the configured share; Inconclusive (InsufficientTraffic) when fewer requests were
 * served than an interval ±tolerance wide needs; Succeeded otherwise. 5xx rates and latencies are
 * compared and reported, and become findings only when a test calls the difference significant —
 * they never change the verdict.
 */
export function judgeServedSplit(
  input: ServedSplitInput,
  settings: ServedSplitSettings = DEFAULT_SERVED_SPLIT_SETTINGS,
): ServedSplitJudgement {
  const { configuredShare, loadBalancer } = input;
  const { tolerance } = settings;
  const canary = totals(input.canary);
  const stable = totals(input.stable);
  const requests = canary.requests + stable.requests;
  const requiredRequests = requestsForHalfWidth(configuredShare, tolerance, settings.minRequests);
  const sides = [canary, stable];
  const evidence = evidenceFindings(input, canary, stable);
  const base = { configuredShare, tolerance, requiredRequests, sides, ...evidence.values };

  if (requests < requiredRequests) {
    return {
      ...base,
      ...(requests > 0 ? { observedShare: canary.requests / requests } : {}),
      ...(requests > 0 ? { interval: wilsonInterval(canary.requests, requests) } : {}),
      verdict: 'Inconclusive',
      findings: [
        {
          code: 'InsufficientTraffic',
          resource: loadBalancer,
          expected: requiredRequests,
          observed: requests,
          message: `${requests} requests reached the canary and stable target groups in the window; the 95 % interval needs ${requiredRequests} to be ±${percent(tolerance)} wide at a ${percent(configuredShare)} share`,
        },
        ...evidence.findings,
      ],
    };
  }

  const observedShare = canary.requests / requests;
  const interval = wilsonInterval(canary.requests, requests);
  const mismatch = interval.low > configuredShare + tolerance || interval.high < configuredShare - tolerance;
  const verdict: Verdict = mismatch ? 'Failed' : 'Succeeded';
  const findings: TrafficFinding[] = mismatch
    ? [
        {
          code: 'ObservedSplitMismatch',
          resource: input.canary.resource,
          expected: round(configuredShare),
          observed: round(observedShare),
          message: `the canary target group served ${percent(observedShare)} of ${requests} requests (95 % interval ${percent(interval.low)}–${percent(interval.high)}); the weights say ${percent(configuredShare)} ± ${percent(tolerance)}`,
        },
      ]
    : [];
  return { ...base, observedShare, interval, verdict, findings: [...findings, ...evidence.findings] };
}

function totals(series: ServedSeries): ServedSide {
  let requests = 0;
  let errors5xx = 0;
  let latencyWeight = 0;
  let latencySum = 0;
  for (const point of series.points) {
    requests += point.requests;
    errors5xx += point.errors5xx;
    if (point.latencySeconds !== undefined && point.requests > 0) {
      latencySum += point.latencySeconds * point.requests;
      latencyWeight += point.requests;
    }
  }
  return {
    role: series.role,
    resource: series.resource,
    requests,
    errors5xx,
    ...(requests > 0 ? { errorRate: Math.min(1, errors5xx / requests) } : {}),
    ...(latencyWeight > 0 ? { latencySeconds: latencySum / latencyWeight } : {}),
  };
}

function evidenceFindings(
  input: ServedSplitInput,
  canary: ServedSide,
  stable: ServedSide,
): { values: Pick<ServedSplitJudgement, 'errorRateZ' | 'latencyDifference'>; findings: TrafficFinding[] } {
  const findings: TrafficFinding[] = [];
  const values: Pick<ServedSplitJudgement, 'errorRateZ' | 'latencyDifference'> = {};
  if (canary.requests > 0 && stable.requests > 0) {
    const errors = twoProportionZTest(
      { successes: Math.min(canary.errors5xx, canary.requests), trials: canary.requests },
      { successes: Math.min(stable.errors5xx, stable.requests), trials: stable.requests },
    );
    values.errorRateZ = round(errors.z);
    if (errors.significant && errors.z > 0) {
      findings.push({
        code: 'CanaryErrorRateHigher',
        resource: canary.resource,
        expected: round(stable.errorRate ?? 0),
        observed: round(canary.errorRate ?? 0),
        message: `the canary answered ${percent(canary.errorRate ?? 0)} 5xx against the stable side's ${percent(stable.errorRate ?? 0)} (z = ${errors.z.toFixed(2)}, significant at 95 %)`,
      });
    }
  }
  const stableByMinute = new Map(input.stable.points.map((point) => [point.at, point.latencySeconds]));
  const pairs: Array<readonly [number, number]> = [];
  for (const point of input.canary.points) {
    const other = stableByMinute.get(point.at);
    if (point.latencySeconds !== undefined && other !== undefined) pairs.push([point.latencySeconds, other]);
  }
  if (pairs.length > 0) {
    const latency = pairedDifferenceTest(pairs);
    values.latencyDifference = {
      seconds: round(latency.meanDifference),
      t: round(latency.t),
      minutes: latency.pairs,
    };
    if (latency.significant && latency.meanDifference > 0) {
      findings.push({
        code: 'CanaryLatencyHigher',
        resource: canary.resource,
        expected: round(stable.latencySeconds ?? 0),
        observed: round(canary.latencySeconds ?? 0),
        message: `the canary answered ${(latency.meanDifference * 1000).toFixed(0)} ms slower than the stable side on average over ${latency.pairs} minutes (paired t = ${latency.t.toFixed(2)}, significant at 95 %)`,
      });
    }
  }
  return { values, findings };
}

/** Shares to 4 decimals: the event stays readable, nothing meaningful is lost. */
const round = (value: number) => Math.round(value * 10_000) / 10_000;
const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
