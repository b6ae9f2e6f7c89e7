import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrafficObservedEventDetail } from '../../lambdas/core/contracts/traffic-observed-event.js';
import { createCloudWatch, readServedTraffic } from '../../lambdas/core/traffic/cloudwatch-reader.js';
import { lookTargets } from '../../lambdas/core/traffic/look-targets.js';
import { lookWindow } from '../../lambdas/core/traffic/look-window.js';
import { lookAtServedTraffic } from '../../lambdas/core/traffic/traffic-look.js';
import { type CloudWatchSim, putAlbMinute, startCloudWatchSim } from '../../sim/cloudwatch.js';
import { verdictDetail } from '../support/verdicts.js';

const ACCOUNT = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const LB = `${ACCOUNT}:loadbalancer/app/k8s-shop-checkout/0a1b2c3d4e5f6a7b`;
const RULE = `${ACCOUNT}:listener-rule/app/k8s-shop-checkout/0a1b2c3d4e5f6a7b/1111111111111111/2222222222222222`;
const CANARY = `${ACCOUNT}:targetgroup/k8s-shop-checkoutc-1234567890/aaaaaaaaaaaaaaaa`;
const STABLE = `${ACCOUNT}:targetgroup/k8s-shop-checkouts-1234567890/bbbbbbbbbbbbbbbb`;
const DECIDED = Date.parse('2026-11-23T09:00:03.000Z');
const MINUTE = 60_000;

/** A Succeeded configuration verdict for setWeight 20 whose evidence names one rule and both groups. */
const verdict = verdictDetail({
  evidence: {
    routes: [
      {
        resource: RULE,
        description: 'HTTP:80 priority 1',
        destinations: [
          { resource: CANARY, role: 'canary', weight: 20 },
          { resource: STABLE, role: 'stable', weight: 80 },
        ],
      },
    ],
    backends: [],
  },
});

describe('the traffic look against the loopback CloudWatch (real SDK client, AWS JSON 1.0)', () => {
  let sim: CloudWatchSim;
  let now = DECIDED + 8 * MINUTE;
  beforeAll(async () => {
    sim = await startCloudWatchSim({ now: () => now, publicationDelayMs: 2 * MINUTE });
  });
  afterAll(() => sim.close());
  const client = () => createCloudWatch({ endpoint: sim.endpoint, region: 'eu-west-1' });

  /** Five minutes from the first whole minute after the verdict, `canary`/`stable` requests each. */
  const seed = (
    canary: number,
    stable: number,
    extra: { errors?: [number, number]; latency?: [number, number] } = {},
  ) => {
    for (let minute = 1; minute <= 5; minute++) {
      const at = Math.ceil(DECIDED / MINUTE) * MINUTE + (minute - 1) * MINUTE;
      putAlbMinute(sim, LB, CANARY, {
        at,
        requests: canary,
        errors5xx: extra.errors?.[0],
        latencySeconds: extra.latency?.[0],
      });
      putAlbMinute(sim, LB, STABLE, {
        at,
        requests: stable,
        errors5xx: extra.errors?.[1],
        latencySeconds: extra.latency?.[1],
      });
    }
  };

  it('reads every target group in one GetMetricData call and folds the minutes per role', async () => {
    seed(40, 160, { errors: [2, 1], latency: [0.2, 0.1] });
    const targets = lookTargets(verdict);
    if (typeof targets === 'string') throw new Error(targets);
    expect(targets.loadBalancerArn).toBe(LB);
    const before = sim.calls.length;
    const served = await readServedTraffic(
      client(),
      targets.pairs,
      lookWindow(DECIDED, DECIDED + 5 * MINUTE),
    );
    expect(sim.calls.slice(before)).toEqual([{ operation: 'GetMetricData', status: 200, queries: 6 }]);
    expect(served.requests).toBe(1);
    // 09:00:03 → the first whole minute is 09:01; the window closes at 09:05:03 → 09:01–09:05, 4 minutes.
    expect(served.canary.points.map((point) => point.requests)).toEqual([40, 40, 40, 40]);
    expect(served.stable.points.map((point) => point.errors5xx)).toEqual([1, 1, 1, 1]);
    expect(served.canary.points[0]?.latencySeconds).toBeCloseTo(0.2, 9);
  });

  it('judges the served split and produces a valid traffic-observed event', async () => {
    const result = await lookAtServedTraffic(client(), verdict, { now: () => now, windowSeconds: 360 });
    if (result.outcome !== 'observed') throw new Error(result.reason);
    expect(TrafficObservedEventDetail.parse(result.detail)).toEqual(result.detail);
    expect(result.detail).toMatchObject({
      verdict: 'Succeeded',
      configuredShare: 0.2,
      observedShare: 0.2,
      window: { start: '2026-11-23T09:01:00.000Z', end: '2026-11-23T09:06:00.000Z' },
      verdictId: `${verdict.verdictId}/traffic-observed`,
    });
    expect(result.detail.sides.map((side) => [side.role, side.requests])).toEqual([
      ['canary', 200],
      ['stable', 800],
    ]);
  });

  it('sees nothing CloudWatch has not published yet: a window read too early is InsufficientTraffic, never a mismatch', async () => {
    now = DECIDED + 3 * MINUTE;
    const result = await lookAtServedTraffic(client(), verdict, { now: () => now, windowSeconds: 360 });
    now = DECIDED + 8 * MINUTE;
    if (result.outcome !== 'observed') throw new Error(result.reason);
    expect(result.detail.verdict).toBe('Inconclusive');
    expect(result.detail.findings[0]?.code).toBe('InsufficientTraffic');
  });

  it('names the missing permission on AccessDenied', async () => {
    sim.denyAction('GetMetricData');
    const result = await lookAtServedTraffic(client(), verdict, { now: () => now });
    if (result.outcome !== 'observed') throw new Error(result.reason);
    expect(result.detail.verdict).toBe('Inconclusive');
    expect(result.detail.findings[0]).toMatchObject({
      code: 'AccessDenied',
      missingPermission: 'cloudwatch:GetMetricData',
    });
  });

  it('reports throttling past the retries as Throttled', async () => {
    const fresh = await startCloudWatchSim();
    try {
      fresh.injectError('GetMetricData', { code: 'Throttling', message: 'Rate exceeded', times: 10 });
      const result = await lookAtServedTraffic(
        createCloudWatch({ endpoint: fresh.endpoint, region: 'eu-west-1', maxAttempts: 2 }),
        verdict,
      );
      if (result.outcome !== 'observed') throw new Error(result.reason);
      expect(result.detail.findings[0]?.code).toBe('Throttled');
      expect(fresh.calls.length).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  it('skips what it cannot judge: not an ALB rollout, or not a Succeeded configuration verdict', async () => {
    expect(
      await lookAtServedTraffic(client(), verdictDetail({ traffic: { router: 'istio' } })),
    ).toMatchObject({
      outcome: 'skipped',
    });
    expect(await lookAtServedTraffic(client(), { ...verdict, verdict: 'Failed' })).toMatchObject({
      outcome: 'skipped',
    });
  });
});
