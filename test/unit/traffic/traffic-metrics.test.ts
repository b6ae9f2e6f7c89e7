import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TrafficObservedEventDetail } from '../../../lambdas/core/contracts/traffic-observed-event.js';
import { recordTrafficMetrics } from '../../../lambdas/traffic/traffic-metrics.js';

const detail = {
  verdict: 'Failed',
  rollout: { namespace: 'shop', name: 'wishlist', uid: 'u', revision: 3 },
  configuredShare: 0.2,
  observedShare: 0.45,
  sides: [
    { role: 'canary', resource: 'tg/c', requests: 100, errors5xx: 2, errorRate: 0.02 },
    { role: 'stable', resource: 'tg/s', requests: 900, errors5xx: 9, errorRate: 0.01 },
  ],
} as unknown as TrafficObservedEventDetail;

afterEach(() => vi.restoreAllMocks());

describe('recordTrafficMetrics', () => {
  it('counts the verdict service-wide and per Rollout, with the shares and 5xx rates in percent', () => {
    const metrics = new Metrics({ namespace: 'RolloutVerifier', serviceName: 'rollout-verifier' });
    const added: Array<[string, number, Record<string, string>]> = [];
    vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      added.push([name, value, {}]);
      return metrics;
    });
    const singles: Array<{ dimensions: Record<string, string>; metric?: [string, number] }> = [];
    vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
      const single = {
        dimensions: {} as Record<string, string>,
        metric: undefined as [string, number] | undefined,
      };
      singles.push(single);
      return {
        addDimension: (name: string, value: string) => {
          single.dimensions[name] = value;
        },
        addMetric: (name: string, _unit: string, value: number) => {
          single.metric = [name, value];
        },
      } as unknown as Metrics;
    });
    recordTrafficMetrics(metrics, detail);
    expect(added.map(([name, value]) => [name, value])).toEqual([['TrafficObservedFailed', 1]]);
    expect(singles.map((single) => [single.dimensions.Rollout, ...(single.metric ?? [])])).toEqual([
      ['shop/wishlist', 'TrafficObservedFailed', 1],
      ['shop/wishlist', 'ConfiguredCanaryShare', 20],
      ['shop/wishlist', 'ServedCanaryShare', 45],
      ['shop/wishlist', 'Canary5xxRate', 2],
      ['shop/wishlist', 'Stable5xxRate', 1],
    ]);
  });
});
