import { tooManyRequests } from '../../sim/kube/status.js';
import type { Fault } from './fault-proxy.js';
import { isTransportFault, TRANSPORT_FAULTS, transportFault } from './wire-faults.js';

/**
 * What can go wrong on the wire between the verifier and a Kubernetes API server — or whatever
 * answers in its place (an API gateway, a corporate proxy) — as fault-proxy faults.
 */

export const KUBE_WIRE_FAULTS = [
  ...TRANSPORT_FAULTS,
  'throttling',
  'truncated JSON',
  'JSON that is not an object',
  /** For a GET: a proxy's 404 page, which is no Kubernetes Status; for a list: a List without `items`. */
  'HTML 404 or a List without items',
] as const;
export type KubeWireFault = (typeof KUBE_WIRE_FAULTS)[number];

export function kubeWireFault(fault: KubeWireFault, read: 'get' | 'list'): Fault {
  if (isTransportFault(fault)) return transportFault(fault);
  switch (fault) {
    case 'throttling': {
      const { status } = tooManyRequests('Too many requests, please try again later.', 1);
      return {
        kind: 'respond',
        status: 429,
        contentType: 'application/json',
        headers: { 'retry-after': '1' },
        body: JSON.stringify(status),
      };
    }
    case 'truncated JSON':
      return { kind: 'rewrite', body: (body) => body.slice(0, Math.floor(body.length / 2)) };
    case 'JSON that is not an object':
      return { kind: 'respond', status: 200, contentType: 'application/json', body: '[]' };
    case 'HTML 404 or a List without items':
      return read === 'get'
        ? {
            kind: 'respond',
            status: 404,
            contentType: 'text/html',
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
