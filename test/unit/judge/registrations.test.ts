import { describe, expect, it } from 'vitest';
import { judge } from '../../../lambdas/core/judge/index.js';
import type { Observation, ObservedEndpoint, ObservedTarget } from '../../../lambdas/core/observation.js';
import { rolloutEvent } from '../../support/rollout-events.js';

const CANARY_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-canary/1';
const STABLE_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-stable/2';
const expected = rolloutEvent().expected;

const healthy = (id: string, port = 8080): ObservedTarget => ({ id, port, state: 'healthy' });
/** Pods as EndpointSlices list them: the address and the port the Service's target port resolves to. */
const pods = (addresses: string[], port: number | null = 8080): ObservedEndpoint[] =>
  addresses.map((address) => (port === null ? { address } : { address, port }));

function observation(
  canaryTargets: ObservedTarget[],
  canaryEndpoints: { ready: string[]; notReady?: string[]; port?: number | null } | undefined,
): Observation {
  return {
    router: 'alb',
    routes: [
      {
        resource: 'rule',
        description: 'listener-rule priority 1 on HTTP:80',
        destinations: [
          { resource: CANARY_TG, role: 'canary', weight: 20 },
          { resource: STABLE_TG, role: 'stable', weight: 80 },
        ],
      },
    ],
    backends: [
      { resource: CANARY_TG, role: 'canary', targets: canaryTargets },
      { resource: STABLE_TG, role: 'stable', targets: [healthy('10.0.2.1'), healthy('10.0.2.2')] },
    ],
    problems: [],
    endpoints: [
      {
        resource: 'service/shop/checkout',
        role: 'stable',
        ready: pods(['10.0.2.1', '10.0.2.2']),
        notReady: [],
      },
      ...(canaryEndpoints
        ? [
            {
              resource: 'service/shop/checkout-canary',
              role: 'canary' as const,
              ready: pods(canaryEndpoints.ready, canaryEndpoints.port),
              notReady: pods(canaryEndpoints.notReady ?? [], canaryEndpoints.port),
            },
          ]
        : []),
    ],
  };
}

describe('judge: IP-mode registrations against EndpointSlices', () => {
  it('passes when every ready pod is registered and nothing else is', () => {
    const result = judge(expected, observation([healthy('10.0.1.1')], { ready: ['10.0.1.1'] }));
    expect(result).toEqual({ verdict: 'Succeeded', findings: [], final: true, complete: true });
  });

  it('finds a half-registered target group: ready pods the controller has not registered', () => {
    const result = judge(
      expected,
      observation([healthy('10.0.1.1')], { ready: ['10.0.1.1', '10.0.1.2', '10.0.1.3'] }),
    );
    expect(result.verdict).toBe('Failed');
    expect(result.findings).toEqual([
      expect.objectContaining({
        code: 'TargetNotRegistered',
        resource: CANARY_TG,
        expected: '3 ready pod(s) registered',
        observed: '1 registered',
        message: expect.stringContaining(
          '10.0.1.2:8080, 10.0.1.3:8080 of service/shop/checkout-canary are not registered',
        ),
      }),
    ]);
  });

  it('finds stale registrations: an address no pod has any more, but not one that is draining', () => {
    const result = judge(
      expected,
      observation([healthy('10.0.1.1'), healthy('10.0.1.9'), { id: '10.0.1.8', state: 'draining' }], {
        ready: ['10.0.1.1'],
      }),
    );
    expect(result.findings).toEqual([
      expect.objectContaining({
        code: 'StaleTargetRegistration',
        resource: CANARY_TG,
        message: expect.stringContaining('10.0.1.9'),
      }),
    ]);
  });

  it('accepts a registered pod that is not ready yet (readiness gates register before ready)', () => {
    const result = judge(
      expected,
      observation([healthy('10.0.1.1'), { id: '10.0.1.2', state: 'initial' }], {
        ready: ['10.0.1.1'],
        notReady: ['10.0.1.2'],
      }),
    );
    expect(result.verdict).toBe('Succeeded');
  });

  it('leaves instance-mode groups alone: they register nodes, not pods', () => {
    const result = judge(expected, observation([healthy('i-0abc123')], { ready: ['10.0.1.1'] }));
    expect(result.verdict).toBe('Succeeded');
  });

  it('compares only with what it could read: no EndpointSlices observed, no registration finding', () => {
    expect(judge(expected, observation([healthy('10.0.1.1')], undefined)).verdict).toBe('Succeeded');
  });

  it('a pod registered on another port than its target port is not registered, and reported once', () => {
    const result = judge(
      expected,
      observation([healthy('10.0.1.1'), healthy('10.0.1.2', 9090)], { ready: ['10.0.1.1', '10.0.1.2'] }),
    );
    expect(result.verdict).toBe('Failed');
    expect(result.findings).toEqual([
      expect.objectContaining({
        code: 'TargetNotRegistered',
        observed: '1 registered',
        message: expect.stringContaining('10.0.1.2:8080 (registered on port 9090)'),
      }),
    ]);
  });

  it('compares addresses only when the EndpointSlice names no port for the Service port', () => {
    const result = judge(
      expected,
      observation([healthy('10.0.1.1', 9090)], { ready: ['10.0.1.1'], port: null }),
    );
    expect(result.verdict).toBe('Succeeded');
  });
});
