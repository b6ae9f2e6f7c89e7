import { MalformedResponseError } from '../malformed-response.js';
import type { KubeMethod } from './kube-api.js';

/** A Kubernetes `Status` object, as the API server returns it with every error. */
export interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message?: string }[] };
}

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A non-2xx answer (or no answer) from the API server, with what the caller needs to decide what to do. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** HTTP status; 0 when no answer came (timeout, connection refused, TLS failure). */
  readonly status: number;
  readonly reason: string | undefined;
  readonly method: KubeMethod;
  readonly path: string;
  readonly retryAfterSeconds: number | undefined;
  /**
   * An earlier attempt of this same write got no answer, so the server may have applied it before
   * this error: a 409 may then be about our own change (set by the client that retried).
   */
  afterLostAnswer = false;

  constructor(options: {
    status: number;
    method: KubeMethod;
    path: string;
    message: string;
    reason?: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.status = options.status;
    this.reason = options.reason;
    this.method = options.method;
    this.path = options.path;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** Worth another try: throttled, a server error, or no answer at all. */
  get retryable(): boolean {
    return this.status === 0 || RETRYABLE_STATUSES.has(this.status);
  }
}

export const isKubeStatus = (error: unknown, status: number): error is KubeApiError =>
  error instanceof KubeApiError && error.status === status;

/** The RBAC verb a request needs, for messages that say what to grant. */
export function verbOf(method: KubeMethod, path: string): string {
  if (method === 'POST') return 'create';
  if (method === 'PATCH') return 'patch';
  // A collection path (even number of segments after the group/version prefix) is a list.
  return /\/namespaces\/[^/]+\/[^/]+$/.test(path) ? 'list' : 'get';
}

/** `rollouts/status in API group "argoproj.io"`, from a request path. */
export function resourceOf(path: string): { group: string; resource: string } {
  const core = /^\/api\/v1\/namespaces\/[^/]+\/([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  if (core) return { group: '', resource: core[2] ? `${core[1]}/${core[2]}` : (core[1] ?? '') };
  const grouped = /^\/apis\/([^/]+)\/[^/]+\/namespaces\/[^/]+\/([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  if (grouped) {
    return {
      group: grouped[1] ?? '',
      resource: grouped[3] ? `${grouped[2]}/${grouped[3]}` : (grouped[2] ?? ''),
    };
  }
  return { group: '', resource: path };
}

/**
 * The API server's answer for a path it serves no API at: a bare `404 page not found` (text/plain),
 * not a Status. An API group/version the cluster does not serve (Istio's `v1` before Istio 1.22,
 * say) answers so; an object that does not exist answers with a Status. Nothing about the object
 * follows from it: it stays a malformed answer wherever it is not expected, and ServedResource
 * takes it as "try the next version".
 */
export class ApiNotServedError extends MalformedResponseError {}

export const API_NOT_SERVED_BODY = /^404 page not found\s*$/;
