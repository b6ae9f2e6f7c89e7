import {
  badRequest,
  conflict,
  forbidden,
  gatewayTimeout,
  genericFailure,
  internalError,
  notFound,
  pathNotFound,
  type RequestAttributes,
  type StatusError,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
} from './status.js';

/** Failures a test arranges: one-off injected answers, and RBAC denials that last until removed. */

export interface Injection {
  /** Only requests with this method (any when absent). */
  method?: string;
  /** The request path without the query: equal to a string, or matching a RegExp (any when absent). */
  path?: string | RegExp;
  /** The HTTP status to fail with; absent with `delayMs`: answer normally, late. */
  status?: number;
  /** How many matching requests fail (default 1); `Infinity` until removed. */
  times?: number;
  /** 429 (default 1), 503, 504: `details.retryAfterSeconds` and the `Retry-After` header. */
  retryAfterSeconds?: number;
  /** Hold the answer this long first, e.g. longer than the client's timeout. */
  delayMs?: number;
  /** Replaces the default message (not for 403/404/409, which are worded from the request). */
  message?: string;
}

export interface RbacDenial {
  /** `get`, `list`, `create`, `patch`, `delete`, or `*`. */
  verb: string;
  /** '' for the core group. */
  group: string;
  resource: string;
  /** e.g. `status`; absent: the main resource only. `*`: the resource and all its subresources. */
  subresource?: string;
  /** Only in this namespace (every namespace when absent). */
  namespace?: string;
  /** Only for this user (everyone when absent). */
  user?: string;
}

export interface RequestFacts extends RequestAttributes {
  method: string;
  path: string;
}

interface ActiveInjection {
  rule: Injection;
  remaining: number;
}

export class Faults {
  private injections: ActiveInjection[] = [];
  private denials: RbacDenial[] = [];

  /** Returns a function that removes the injection early. */
  inject(rule: Injection): () => void {
    if (rule.status === undefined && rule.delayMs === undefined)
      throw new Error('inject: give a status, a delayMs, or both');
    const active = { rule, remaining: rule.times ?? 1 };
    this.injections.push(active);
    return () => {
      this.injections = this.injections.filter((candidate) => candidate !== active);
    };
  }

  /** Returns a function that lifts the denial. */
  forbid(denial: RbacDenial): () => void {
    this.denials.push(denial);
    return () => {
      this.denials = this.denials.filter((candidate) => candidate !== denial);
    };
  }

  clear(): void {
    this.injections = [];
    this.denials = [];
  }

  /** The first injection matching the request, used up by one. */
  takeInjection(request: RequestFacts): Injection | undefined {
    const active = this.injections.find(({ rule }) => {
      if (rule.method && rule.method.toUpperCase() !== request.method) return false;
      if (rule.path === undefined) return true;
      return typeof rule.path === 'string' ? rule.path === request.path : rule.path.test(request.path);
    });
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.injections = this.injections.filter((candidate) => candidate !== active);
    return active.rule;
  }

  isDenied(request: RequestAttributes): boolean {
    return this.denials.some(
      (denial) =>
        (denial.verb === '*' || denial.verb === request.verb) &&
        denial.group === request.group &&
        denial.resource === request.resource &&
        (denial.subresource === '*' || (denial.subresource ?? '') === (request.subresource ?? '')) &&
        (denial.namespace === undefined || denial.namespace === request.namespace) &&
        (denial.user === undefined || denial.user === request.user),
    );
  }
}

/** The Status an injected failure answers with, worded as the API server would for this request. */
export function injectedFailure(rule: Injection & { status: number }, request: RequestFacts): StatusError {
  const resource = { group: request.group, resource: request.resource };
  switch (rule.status) {
    case 400:
      return badRequest(rule.message ?? 'the server rejected our request for an unknown reason');
    case 401:
      return unauthorized();
    case 403:
      return forbidden(request);
    case 404:
      return request.name ? notFound(resource, request.name) : pathNotFound();
    case 409:
      return conflict(resource, request.name ?? '');
    case 429:
      return tooManyRequests(
        rule.message ?? 'Too many requests, please try again later.',
        rule.retryAfterSeconds ?? 1,
      );
    case 500:
      return internalError(rule.message ?? 'etcdserver: leader changed');
    case 503:
      return serviceUnavailable(
        rule.message ?? 'the server is currently unable to handle the request',
        rule.retryAfterSeconds,
      );
    case 504:
      return gatewayTimeout(
        rule.message ?? 'request did not complete within requested timeout - context deadline exceeded',
        rule.retryAfterSeconds,
      );
    default:
      return genericFailure(rule.status, rule.message ?? `injected failure ${rule.status}`);
  }
}
