import type { FindingCode } from '../../lambdas/core/contracts/verdict-event.js';
import type { Fault } from './fault-proxy.js';

/**
 * Faults that look the same whatever the API behind the proxy: no answer, a reset, a proxy's error
 * page or sign-in page. The protocol modules (elbv2-sim, kube-sim) add their own on top.
 */
export const TRANSPORT_FAULTS = ['hang', 'connection reset', 'HTTP 503 page', 'HTML 200'] as const;
export type TransportFault = (typeof TRANSPORT_FAULTS)[number];

const HTML = 'text/html; charset=utf-8';

export function transportFault(fault: TransportFault): Fault {
  switch (fault) {
    case 'hang':
      return { kind: 'hang' };
    case 'connection reset':
      return { kind: 'reset' };
    case 'HTTP 503 page':
      return {
        kind: 'respond',
        status: 503,
        contentType: HTML,
        body: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1></body></html>',
      };
    case 'HTML 200':
      return {
        kind: 'respond',
        status: 200,
        contentType: HTML,
        body: '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login"></form></body></html>',
      };
  }
}

export const isTransportFault = (fault: string): fault is TransportFault =>
  (TRANSPORT_FAULTS as readonly string[]).includes(fault);

/**
 * The finding code a fault must end as when it lasts until the deadline: no answer or a server
 * error is an ObservationError, throttling is Throttled, and anything answered that is not an
 * answer is a MalformedResponse.
 */
export function expectedFindingCode(fault: string): FindingCode {
  if (fault === 'hang' || fault === 'connection reset' || fault === 'HTTP 503 page')
    return 'ObservationError';
  return fault === 'throttling' ? 'Throttled' : 'MalformedResponse';
}
