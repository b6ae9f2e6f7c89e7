import { describe, expect, it, vi } from 'vitest';
import type { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { metrics } from '../../lambdas/shared/powertools.js';
import {
  recordVerdictMetrics,
  unhealthyCanaryTargets,
  verdictCounter,
  weightDrift,
} from '../../lambdas/verify/verdict-metrics.js';
import { rolloutEvent } from '../support/rollout-events.js';

const verdict = (overrides: Partial<VerdictEventDetail> = {}): VerdictEventDetail => ({
  schemaVersion: 1,
  verdictId: 'v',
  eventId: 'e',
  verdict: 'Failed',
  rollout: rolloutEvent().rollout,
  step: { index: 1 },
  expected: { canaryWeight: 20, stableWeight: 80 },
  traffic: { router: 'alb' },
  findings: [],
  attempts: 3,
  durationMs: 1234,
  deadlineSeconds: 30,
  decidedAt: '2026-11-23T09:00:00.000Z',
  evidence: {
    region: 'eu-west-1',
    routes: [
      {
        resource: 'rule-1',
        description: 'r1',
        destinations: [
          { resource: 'c', role: 'canary', weight: 0 },
          { resource: 's', role: 'stable', weight: 100 },
        ],
      },
      {
        resource: 'rule-2',
        description: 'r2',
        destinations: [
          { resource: 'c', role: 'canary', weight: 10 },
          { resource: 's', role: 'stable', weight: 90 },
        ],
      },
    ],
    backends: [
      { resource: 'c', role: 'canary', targets: { healthy: 1, unhealthy: 2 } },
      { resource: 's', role: 'stable', targets: { healthy: 4, unhealthy: 1 } },
    ],
  },
  ...overrides,
});

describe('verdict metrics', () => {
  it('measures drift as the worst route, in the rollout units', () => {
    expect(weightDrift(rolloutEvent(), verdict())).toBe(20);
  });

  it('counts unhealthy targets on the canary side only', () => {
    expect(unhealthyCanaryTargets(verdict())).toBe(2);
  });

  it('counts a rollout that moved on apart from Inconclusive', () => {
    const movedOn = verdict({
      verdict: 'Inconclusive',
      findings: [{ code: 'RolloutMovedOn', resource: 'r', expected: 'a', observed: 'b', message: 'm' }],
    });
    expect(verdictCounter(movedOn)).toBe('VerificationSuperseded');
    expect(verdictCounter(verdict({ verdict: 'Inconclusive' }))).toBe('VerificationInconclusive');
  });

  it('dimensions per-rollout metrics by namespace/name, never a ReplicaSet', () => {
    const single = { addDimension: vi.fn(), addMetric: vi.fn() };
    vi.spyOn(metrics, 'singleMetric').mockReturnValue(single as never);
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    recordVerdictMetrics(metrics, rolloutEvent(), verdict(), 7);
    expect(single.addDimension).toHaveBeenCalledWith('Rollout', 'shop/checkout');
    expect(addMetric).toHaveBeenCalledWith('ElbApiCalls', 'Count', 7);
    expect(single.addMetric.mock.calls.map(([name, , value]) => [name, value])).toEqual([
      ['VerificationFailed', 1],
      ['WeightDrift', 20],
      ['UnhealthyCanaryTargets', 2],
    ]);
  });
});
