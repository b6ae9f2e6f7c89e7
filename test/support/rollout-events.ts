import {
  RolloutEventDetail,
  type RolloutEventDetailInput,
} from '../../lambdas/core/contracts/rollout-event.js';

/** A valid normalized event for shop/checkout at step 1 (setWeight 20), ALB traffic routing. */
export function rolloutEvent(overrides: Partial<RolloutEventDetailInput> = {}): RolloutEventDetail {
  return RolloutEventDetail.parse({
    schemaVersion: 1,
    eventId: 'evt-checkout-r3-s1',
    trigger: 'on-rollout-step-completed',
    receivedAt: '2026-11-23T09:00:00.000Z',
    cluster: 'prod',
    rollout: {
      namespace: 'shop',
      name: 'checkout',
      uid: '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f',
      revision: 3,
      podTemplateHash: '6d4f8c9b7',
      stablePodTemplateHash: '5c7b9d8e6',
    },
    strategy: 'canary',
    step: { index: 1, count: 4 },
    expected: { canaryWeight: 20, stableWeight: 80, derivation: 'setWeight 20 at step 0' },
    traffic: {
      router: 'alb',
      ingresses: [{ ingress: 'checkout' }],
      stableService: 'checkout',
      canaryService: 'checkout-canary',
      servicePort: 80,
    },
    ...overrides,
  });
}

/** The rollout event as EventBridge delivers it to a rule target. */
export function eventBridgeEnvelope(detail: unknown, detailType = 'Rollout Step Completed') {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': detailType,
    source: 'rollout-verifier.ingest',
    account: '123456789012',
    time: '2026-11-23T09:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}
