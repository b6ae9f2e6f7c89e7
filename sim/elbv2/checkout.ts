import type { IngressAlbSpec } from './ingress.js';

/** shop/checkout's Ingress in cluster prod, as the tests and the fault matrix seed it. */
export const CHECKOUT_INGRESS: IngressAlbSpec = {
  cluster: 'prod',
  namespace: 'shop',
  ingress: 'checkout',
  stableService: 'checkout',
  canaryService: 'checkout-canary',
  servicePort: 80,
  listeners: ['HTTP:80', 'HTTPS:443'],
  targets: { stable: 3, canary: 1 },
};

/** `rollout-verifier verify` for shop/checkout at a canary weight, against an ELBv2 endpoint. */
export function checkoutVerifyArgs(endpoint: string, canaryWeight: number, ...extra: string[]): string[] {
  return [
    'verify',
    '--rollout',
    'shop/checkout',
    '--canary-weight',
    String(canaryWeight),
    '--cluster',
    'prod',
    '--region',
    'eu-west-1',
    '--endpoint-url',
    endpoint,
    ...extra,
  ];
}
