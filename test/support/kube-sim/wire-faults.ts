import type { FindingCode } from '../../../lambdas/core/contracts/verdict-event.js';
import type { Fault } from '../fault-proxy.js';

/**
 * What can go wrong on the wire between the verifier and a Kubernetes API server — or whatever
 * answers in its place (an API gateway, a corporate proxy) — as fault-proxy faults.
 */

export const KUBE_WIRE_FAULTS = [
  'hang',
  'connection reset',
  'HTTP 503 page',
  'throttling',
  'HTML 200',
  'truncated JSON',
  'JSON that is not an object',
  /** For a GET: a proxy's 404 page, which is no Kubernetes Status; for a list: a List without `items`. */
  'HTML 404 or a List without items',
] as const;
export type KubeWireFault = (typeof KUBE_WIRE_FAULTS)[number];

const HTML = 'text/html; charset=utf-8';

export function kubeWireFault(fault: KubeWireFault, read: 'get' | 'list'): Fault {
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
        body: '<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>',
      };
    case 'throttling':
      return {
        kind: 'respond',
        status: 429,
        contentType: 'application/json',
        headers: { 'retry-after': '1' },
        body: JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Too many requests, please try again later.',
          reason: 'TooManyRequests',
          details: { retryAfterSeconds: 1 },
          code: 429,
        }),
      };
    case 'HTML 200':
      return {
        kind: 'respond',
        status: 200,
        contentType: HTML,
        body: '<!DOCTYPE html><html><body>Please sign in</body></html>',
      };
    case 'truncated JSON':
      return { kind: 'rewrite', body: (body) => body.slice(0, Math.floor(body.length / 2)) };
    case 'JSON that is not an object':
      return { kind: 'respond', status: 200, contentType: 'application/json', body: '[]' };
    case 'HTML 404 or a List without items':
      return read === 'get'
        ? {
            kind: 'respond',
            status: 404,
            contentType: HTML,
            body: '<html><body><h1>404 Not Found</h1>nginx</body></html>',
          }
        : {
            kind: 'rewrite',
            body: (body) => {
              const { items: _items, ...list } = JSON.parse(body) as Record<string, unknown>;
              return JSON.stringify(list);
            },
          };
  }
}

/** The finding code each fault must end as, when it lasts until the deadline. */
export function expectedKubeFindingCode(fault: KubeWireFault): FindingCode {
  switch (fault) {
    case 'hang':
    case 'connection reset':
    case 'HTTP 503 page':
      return 'ObservationError';
    case 'throttling':
      return 'Throttled';
    default:
      return 'MalformedResponse';
  }
}
