import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { markThrottledCall } from '../cut-short.js';
import { MalformedResponseError } from '../malformed-response.js';
import { tryParseJson } from '../try-parse-json.js';
import type { KubeApi, KubeRequest } from './kube-api.js';
import {
  API_NOT_SERVED_BODY,
  ApiNotServedError,
  KubeApiError,
  type KubeStatus,
  resourceOf,
  verbOf,
} from './kube-errors.js';

/**
 * The Kubernetes API over `node:https` with the cluster's own CA. A full client library
 * (@kubernetes/client-node) bundles to ~1.5 MB for the four verbs this project uses; this is a few
 * KB, trusts only the cluster CA, and retries the way the callback needs.
 */

export interface ClusterEndpoint {
  /** `https://…`: the API server. */
  server: string;
  caPem: string;
  /** A bearer token, cached by its source; empty when the client authenticates with a certificate. */
  token(): Promise<string>;
  /** Client certificate and key (PEM), for kubeconfig users that have them instead of a token. */
  clientCertificate?: { certPem: string; keyPem: string };
  /** Drop the cached token (and endpoint), after the API server answered 401. */
  forgetToken?(): void;
}

export interface HttpsKubeApiOptions {
  /** Per attempt. */
  requestTimeoutMs?: number;
  /** Attempts for 429, 5xx and no-answer failures, the first included. */
  maxAttempts?: number;
  /** Full-jitter backoff ceiling of the first retry; doubles per retry up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** What to grant when the API says 403, e.g. "ClusterRole rollout-verifier (deploy/cluster/clusterroles.yaml)". */
  rbacHint?: string;
  random?: () => number;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class HttpsKubeApi implements KubeApi {
  private readonly agent: https.Agent;
  private readonly options: Required<Omit<HttpsKubeApiOptions, 'rbacHint'>> & { rbacHint?: string };

  constructor(
    private readonly endpoint: ClusterEndpoint,
    options: HttpsKubeApiOptions = {},
  ) {
    const server = new URL(endpoint.server);
    if (server.protocol !== 'https:')
      throw new Error(`the Kubernetes API server must be https, got ${endpoint.server}`);
    this.agent = new https.Agent({
      ca: endpoint.caPem,
      cert: endpoint.clientCertificate?.certPem,
      key: endpoint.clientCertificate?.keyPem,
      keepAlive: true,
      maxSockets: 8,
    });
    this.options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      maxAttempts: options.maxAttempts ?? 4,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 3_000,
      random: options.random ?? Math.random,
      rbacHint: options.rbacHint,
    };
  }

  async request<T>(request: KubeRequest): Promise<T> {
    const { maxAttempts } = this.options;
    let unauthorizedRetried = false;
    // Throttling cut short by the caller's deadline must still read as throttling.
    let throttled = false;
    let lostAnswer = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.once(request)) as T;
      } catch (error) {
        if (request.signal?.aborted) throw markThrottledCall(error, throttled);
        if (!(error instanceof KubeApiError)) throw error;
        throttled ||= error.status === 429;
        // A write whose answer never came may have been applied: its retry can then meet our own change (409).
        error.afterLostAnswer = lostAnswer && request.method !== 'GET';
        lostAnswer ||= error.status === 0;
        // A token rejected once may just have expired between signing and use: one fresh try.
        if (error.status === 401 && !unauthorizedRetried) {
          unauthorizedRetried = true;
          this.endpoint.forgetToken?.();
          continue;
        }
        if (!error.retryable || attempt >= maxAttempts) throw error;
        try {
          await sleep(this.retryDelayMs(attempt, error), undefined, { signal: request.signal });
        } catch (aborted) {
          throw markThrottledCall(aborted, throttled);
        }
      }
    }
  }

  /** Close idle keep-alive connections (tests, the CLI). */
  close(): void {
    this.agent.destroy();
  }

  private retryDelayMs(attempt: number, error: KubeApiError): number {
    const { baseDelayMs, maxDelayMs, random } = this.options;
    if (error.retryAfterSeconds !== undefined) return Math.min(error.retryAfterSeconds * 1000, maxDelayMs);
    return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
  }

  private async once(request: KubeRequest): Promise<unknown> {
    const token = await this.endpoint.token();
    const url = new URL(request.path, this.endpoint.server);
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'rollout-verifier' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }

    return new Promise((resolve, reject) => {
      const fail = (message: string, cause?: unknown) =>
        reject(new KubeApiError({ status: 0, method: request.method, path: request.path, message, cause }));
      const req = https.request(url, {
        method: request.method,
        headers,
        agent: this.agent,
        signal: request.signal,
        timeout: this.options.requestTimeoutMs,
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.requestTimeoutMs} ms`)));
      req.on('error', (error) => {
        if (error.name === 'AbortError') reject(error);
        else fail(`${request.method} ${request.path} on ${url.host} failed: ${error.message}`, error);
      });
      req.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES)
            req.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('error', (error) =>
          fail(`reading the answer to ${request.method} ${request.path}: ${error.message}`, error),
        );
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          const parsed = tryParseJson(text);
          const type = response.headers['content-type'];
          if (status >= 200 && status < 300) {
            // Every answer of the API server is a JSON object: anything else is a proxy's page or a cut-off body.
            if (isJsonObject(parsed)) resolve(parsed);
            else
              reject(
                new MalformedResponseError(
                  `${request.method} ${request.path}`,
                  describeBody(status, type, text),
                ),
              );
            return;
          }
          const kubeStatus = isKubeStatusBody(parsed) ? parsed : undefined;
          // A 404 or 409 means "no such object" or "conflict" only in the API server's own words (a
          // Status); a proxy's page is no answer. Throttling and 5xx read the same from either.
          if (kubeStatus || status === 429 || status >= 500) {
            reject(this.errorOf(request, status, kubeStatus, response.headers['retry-after']));
          } else if (status === 404 && API_NOT_SERVED_BODY.test(text)) {
            reject(
              new ApiNotServedError(
                `${request.method} ${request.path}`,
                'HTTP 404 "404 page not found": the API server serves no API at this path (a group or version it does not serve)',
              ),
            );
          } else {
            const what = `${describeBody(status, type, text)}, not a Kubernetes Status`;
            reject(new MalformedResponseError(`${request.method} ${request.path}`, what));
          }
        });
      });
      req.end(body);
    });
  }

  private errorOf(
    request: KubeRequest,
    status: number,
    body: KubeStatus | undefined,
    retryAfter: string | string[] | undefined,
  ): KubeApiError {
    const serverMessage = body?.message ?? `HTTP ${status}`;
    let message = `${request.method} ${request.path}: ${serverMessage}`;
    if (status === 403) {
      const { group, resource } = resourceOf(request.path);
      const grant = `verb "${verbOf(request.method, request.path)}" on "${resource}" in API group "${group || 'core'}"`;
      message = `forbidden: ${serverMessage}. Grant ${grant}${this.options.rbacHint ? ` in ${this.options.rbacHint}` : ''}`;
    }
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    return new KubeApiError({
      status,
      method: request.method,
      path: request.path,
      message,
      reason: body?.reason,
      retryAfterSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined,
    });
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The API server words every failure as a `kind: Status` object. */
function isKubeStatusBody(value: unknown): value is KubeStatus {
  return isJsonObject(value) && value.kind === 'Status';
}

/** `HTTP 200 (text/html): "<!DOCTYPE html><html>…"`, for messages. */
function describeBody(status: number, type: string | undefined, text: string): string {
  const start =
    text.length === 0
      ? 'an empty body'
      : `"${text.slice(0, 60).replace(/\s+/g, ' ')}${text.length > 60 ? '…' : ''}"`;
  return `HTTP ${status}${type ? ` (${type})` : ''}: ${start}`;
}
