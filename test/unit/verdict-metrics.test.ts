import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import type { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
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

  it('dimensions every per-rollout metric by namespace/name, never a ReplicaSet (as EMF, the way CloudWatch reads it)', () => {
    // Real Powertools metrics writing EMF to the console (POWERTOOLS_DEV), read back as CloudWatch would.
    const environment = { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' };
    const previous = Object.fromEntries(Object.keys(environment).map((key) => [key, process.env[key]]));
    Object.assign(process.env, environment);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      const real = new Metrics({ namespace: 'RolloutVerifier', serviceName: 'rollout-verifier' });
      recordVerdictMetrics(real, rolloutEvent(), verdict());
      real.publishStoredMetrics();
    } finally {
      log.mockRestore();
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const emitted = lines.map(
      (line) =>
        JSON.parse(line) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
        },
    );
    const byMetric = emitted.flatMap((document) =>
      document._aws.CloudWatchMetrics.flatMap(({ Dimensions, Metrics }) =>
        Metrics.map(({ Name }) => ({
          name: Name,
          value: document[Name],
          dimensions: Object.fromEntries(Dimensions.flat().map((key) => [key, document[key]])),
        })),
      ),
    );
    const perRollout = { service: 'rollout-verifier', Rollout: 'shop/checkout' };
    expect(byMetric).toEqual(
      expect.arrayContaining([
        { name: 'VerificationFailed', value: 1, dimensions: perRollout },
        { name: 'WeightDrift', value: 20, dimensions: perRollout },
        { name: 'UnhealthyCanaryTargets', value: 2, dimensions: perRollout },
        { name: 'VerificationFailed', value: 1, dimensions: { service: 'rollout-verifier' } },
        { name: 'TimeToVerdictMs', value: verdict().durationMs, dimensions: { service: 'rollout-verifier' } },
      ]),
    );
    expect(JSON.stringify(byMetric)).not.toContain('6d4f8c9b7');
  });
});
