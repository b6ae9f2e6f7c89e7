import type { Finding } from '../../contracts/verdict-event.js';
import { cutShortFinding } from '../../cut-short.js';
import { MalformedResponseError, malformedResponseFinding } from '../../malformed-response.js';
import { THROTTLING_ERRORS } from './elb-api.js';

const NOT_FOUND = /NotFound/;
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

export interface ErrorContext {
  /** What was being looked at, e.g. a load balancer ARN or `ingress/shop/checkout`. */
  resource: string;
  region: string;
}

/** The ELBv2 action a failed call was for, as recorded by ElbApi's middleware. */
export function failedAction(error: unknown): string | undefined {
  const action = (error as { elbAction?: unknown } | undefined)?.elbAction;
  return typeof action === 'string' ? action : undefined;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && NOT_FOUND.test(error.name);
}

/** Turn an ELBv2 failure into an Inconclusive finding that tells the operator what to fix. */
export function findingFromError(error: unknown, context: ErrorContext): Finding {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const action = failedAction(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;

  if (error instanceof MalformedResponseError) return malformedResponseFinding(error, context.resource);
  const cutShort = cutShortFinding(error, context.resource, `ELBv2 ${action ?? ''} in ${context.region}`);
  if (cutShort) return cutShort;
  if (ACCESS_DENIED.has(name) || status === 403) {
    const permission =
      /not authorized to perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1] ??
      `elasticloadbalancing:${action ?? 'Describe*'}`;
    return {
      code: 'AccessDenied',
      resource: context.resource,
      expected: `allowed: ${permission}`,
      observed: 'AccessDenied',
      message: `the verifier's role may not call ${permission} in ${context.region}: grant it (resource "*")`,
      missingPermission: permission,
    };
  }
  if (THROTTLING_ERRORS.has(name)) {
    return {
      code: 'Throttled',
      resource: context.resource,
      expected: 'an answer',
      observed: name,
      message: `ELBv2 ${action ?? ''} kept being throttled in ${context.region} (the account's Describe* budget is shared with the load balancer controller): ${message}`,
    };
  }
  if (NOT_FOUND.test(name)) {
    return {
      code: 'ResourceNotFound',
      resource: context.resource,
      expected: 'exists',
      observed: name,
      message: `${context.resource} was not found in ${context.region}: ${message}`,
    };
  }
  // A 5xx from a proxy has no AWS error code: the SDK calls it "Unknown", the status says more.
  const http = status !== undefined && status >= 500 ? `HTTP ${status} ` : '';
  return {
    code: 'ObservationError',
    resource: context.resource,
    expected: 'an answer',
    observed: `${http}${name}`,
    message: `ELBv2 ${action ?? ''} failed in ${context.region}: ${http}${message}`,
  };
}
