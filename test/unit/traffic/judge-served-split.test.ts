import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrafficObservedEventDetail } from '../../../lambdas/core/contracts/traffic-observed-event.js';
import {
  judgeServedSplit,
  type MinutePoint,
  type ServedSplitInput,
} from '../../../lambdas/core/traffic/judge-served-split.js';
import { requestsForHalfWidth, wilsonInterval } from '../../../lambdas/core/traffic/statistics.js';

const LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/demo/0123456789abcdef';
const CANARY = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/canary/0123456789abcdef';
const STABLE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/stable/0123456789abcdef';
const MINUTE = 60_000;

/** Spread totals over `minutes` minutes (the remainder in the first). */
function minutes(
  total: { requests: number; errors5xx?: number; latency?: number },
  count = 5,
): MinutePoint[] {
  return Array.from({ length: count }, (_, i) => {
    const requests = Math.floor(total.requests / count) + (i === 0 ? total.requests % count : 0);
    const errors5xx =
      Math.floor((total.errors5xx ?? 0) / count) + (i === 0 ? (total.errors5xx ?? 0) % count : 0);
    return {
      at: i * MINUTE,
      requests,
      errors5xx,
      ...(total.latency !== undefined && requests > 0
        ? { latencySeconds: total.latency + (i % 2) * 0.001 }
        : {}),
    };
  });
}

function input(
  configuredShare: number,
  canary: Parameters<typeof minutes>[0],
  stable: Parameters<typeof minutes>[0],
): ServedSplitInput {
  return {
    configuredShare,
    loadBalancer: LB,
    canary: { role: 'canary', resource: CANARY, points: minutes(canary) },
    stable: { role: 'stable', resource: STABLE, points: minutes(stable) },
  };
}

describe('judgeServedSplit', () => {
  it('Succeeded: 10 % configured, 98 of 1000 served to the canary', () => {
    const judged = judgeServedSplit(input(0.1, { requests: 98 }, { requests: 902 }));
    expect(judged.verdict).toBe('Succeeded');
    expect(judged.findings).toEqual([]);
    expect(judged.observedShare).toBeCloseTo(0.098, 6);
    expect(judged.requiredRequests).toBe(141);
  });

  it('Failed ObservedSplitMismatch: 10 % configured, 300 of 1000 served to the canary', () => {
    const judged = judgeServedSplit(input(0.1, { requests: 300 }, { requests: 700 }));
    expect(judged.verdict).toBe('Failed');
    expect(judged.findings.map((finding) => finding.code)).toEqual(['ObservedSplitMismatch']);
    expect(judged.findings[0]).toMatchObject({ expected: 0.1, observed: 0.3, resource: CANARY });
  });

  it('Inconclusive InsufficientTraffic: 40 requests cannot tell 10 % from 30 %', () => {
    const judged = judgeServedSplit(input(0.1, { requests: 12 }, { requests: 28 }));
    expect(judged.verdict).toBe('Inconclusive');
    expect(judged.findings[0]).toMatchObject({ code: 'InsufficientTraffic', expected: 141, observed: 40 });
  });

  it('Inconclusive without any request, and the event stays valid', () => {
    const judged = judgeServedSplit(input(0.25, { requests: 0 }, { requests: 0 }));
    expect(judged.verdict).toBe('Inconclusive');
    expect(judged.observedShare).toBeUndefined();
    const event = {
      schemaVersion: 1,
      kind: 'traffic-observed',
      verdictId: 'v/traffic-observed',
      configurationVerdictId: 'v',
      eventId: 'e',
      rollout: { namespace: 'shop', name: 'web', uid: 'u', revision: 2 },
      step: { index: 1 },
      loadBalancer: LB,
      window: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:05:00.000Z' },
      decidedAt: '2026-01-01T00:08:00.000Z',
      ...judged,
    };
    expect(TrafficObservedEventDetail.safeParse(event).success).toBe(true);
  });

  it('reports a significantly higher canary 5xx rate as evidence without changing the verdict', () => {
    const judged = judgeServedSplit(
      input(0.1, { requests: 100, errors5xx: 20 }, { requests: 900, errors5xx: 9 }),
    );
    expect(judged.verdict).toBe('Succeeded');
    expect(judged.findings.map((finding) => finding.code)).toEqual(['CanaryErrorRateHigher']);
    expect(judged.errorRateZ).toBeGreaterThan(1.96);
  });

  it('reports a consistently slower canary, not a noisy one', () => {
    const slow = judgeServedSplit(
      input(0.1, { requests: 100, latency: 0.4 }, { requests: 900, latency: 0.1 }),
    );
    expect(slow.findings.map((finding) => finding.code)).toEqual(['CanaryLatencyHigher']);
    expect(slow.latencyDifference?.minutes).toBe(5);
    const same = judgeServedSplit(
      input(0.1, { requests: 100, latency: 0.1 }, { requests: 900, latency: 0.1 }),
    );
    expect(same.findings).toEqual([]);
  });

  const scenario = fc.record({
    share: fc.integer({ min: 0, max: 100 }).map((weight) => weight / 100),
    canary: fc.integer({ min: 0, max: 200_000 }),
    stable: fc.integer({ min: 0, max: 200_000 }),
    tolerance: fc.integer({ min: 1, max: 20 }).map((points) => points / 100),
    minRequests: fc.integer({ min: 1, max: 1000 }),
  });

  it('never fails below the request count the interval needs', () => {
    fc.assert(
      fc.property(scenario, ({ share, canary, stable, tolerance, minRequests }) => {
        const judged = judgeServedSplit(input(share, { requests: canary }, { requests: stable }), {
          tolerance,
          minRequests,
        });
        const needed = requestsForHalfWidth(share, tolerance, minRequests);
        if (canary + stable < needed) expect(judged.verdict).toBe('Inconclusive');
        else expect(judged.verdict).not.toBe('Inconclusive');
      }),
    );
  });

  it('fails exactly when the interval lies beyond the tolerance, never when the share is served as configured', () => {
    fc.assert(
      fc.property(scenario, ({ share, canary, stable, tolerance, minRequests }) => {
        const judged = judgeServedSplit(input(share, { requests: canary }, { requests: stable }), {
          tolerance,
          minRequests,
        });
        if (judged.verdict === 'Inconclusive') return;
        const { low, high } = wilsonInterval(canary, canary + stable);
        const outside = low > share + tolerance || high < share - tolerance;
        expect(judged.verdict).toBe(outside ? 'Failed' : 'Succeeded');
        if (outside) expect(Math.abs(canary / (canary + stable) - share)).toBeGreaterThan(tolerance);
      }),
    );
    fc.assert(
      fc.property(scenario, ({ share, canary, stable, tolerance, minRequests }) => {
        const total = canary + stable;
        const served = Math.round(share * total);
        const judged = judgeServedSplit(input(share, { requests: served }, { requests: total - served }), {
          tolerance,
          minRequests,
        });
        expect(judged.verdict).not.toBe('Failed');
      }),
    );
  });
});
