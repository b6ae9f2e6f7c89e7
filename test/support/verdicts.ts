import { type Finding, VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { verdictIdOf } from '../../lambdas/core/verify.js';
import { rolloutEvent } from './rollout-events.js';

export const WEIGHT_MISMATCH: Finding = {
  code: 'WeightMismatch',
  resource: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/k8s-shop-checkout/1/l/r',
  expected: 'canary 20 / stable 80',
  observed: 'canary 0 / stable 100',
  message:
    'listener-rule priority 1 on HTTP:80 forwards canary 0 / stable 100, expected canary 20 / stable 80',
  layer: 'load-balancer',
};

/** A verdict about shop/checkout revision 3 at step 0 (setWeight 20), the rollout of `rolloutEvent()`. */
export function verdictDetail(overrides: Partial<VerdictEventDetail> = {}): VerdictEventDetail {
  const event = rolloutEvent();
  const verdict = overrides.verdict ?? 'Succeeded';
  return VerdictEventDetail.parse({
    schemaVersion: 1,
    verdictId: verdictIdOf(event.eventId),
    eventId: event.eventId,
    verdict,
    cluster: event.cluster,
    rollout: event.rollout,
    step: { index: 0 },
    expected: { canaryWeight: 20, stableWeight: 80 },
    traffic: { router: 'alb' },
    findings: verdict === 'Failed' ? [WEIGHT_MISMATCH] : [],
    attempts: 3,
    durationMs: 2_400,
    deadlineSeconds: 30,
    decidedAt: '2026-11-23T09:00:03.000Z',
    trigger: event.trigger,
    ...overrides,
  });
}
