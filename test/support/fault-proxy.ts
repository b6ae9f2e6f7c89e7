import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../../sim/loopback-server.js';

/**
 * A fault-injecting HTTP(S) proxy on loopback, for putting in front of any simulator: the client
 * under test talks to the proxy as if it were the service, and each request either passes through
 * or meets the fault a test arranged — no answer at all, a reset connection, an answer lost after
 * the service applied the request, an error page, or the service's own answer mangled.
 *
 * ```ts
 * const proxy = await startFaultProxy({ upstream: sim.endpoint });
 * proxy.inject({ match: (request) => request.body.includes('Action=DescribeRules'), fault: { kind: 'hang' } });
 * // point the client at proxy.url
 * await proxy.close();
 * ```
 */

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The request body as text ('' when none). */
  body: string;
}

export type Fault =
  /** Read the request, never answer: the client's timeout or abort signal has to end it. */
  | { kind: 'hang' }
  /** Reset the connection without forwarding the request. */
  | { kind: 'reset' }
  /**
   * Forward the request (the service applies it), then lose the answer: reset the connection
   * (default), or keep it open in silence until the client's timeout gives up.
   */
  | { kind: 'lose-answer'; then?: 'reset' | 'silence' }
  /** Answer in the service's place. */
  | { kind: 'respond'; status: number; contentType?: string; headers?: Record<string, string>; body: string }
  /** Forward, then change the service's answer body (status and content type kept). */
  | { kind: 'rewrite'; body: (body: string) => string };

export interface FaultRule {
  /** The requests it applies to (every request when absent). */
  match?: (request: ProxiedRequest) => boolean;
  /** Let this many matching requests through first (default 0). */
  after?: number;
  /** How many matching requests meet the fault after that (default: every one until removed). */
  times?: number;
  fault: Fault;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  body: string;
  /** The fault the request met, if any. */
  fault?: Fault['kind'];
}

export interface FaultProxyOptions {
  /** Where requests go, e.g. `http://127.0.0.1:4566` or `https://127.0.0.1:6443`. */
  upstream: string;
  /** Serve HTTPS with this certificate (e.g. the Kubernetes API fake's, so its CA is trusted). */
  tls?: { keyPem: string; certPem: string };
  /** The CA to trust for an HTTPS upstream. */
  upstreamCaPem?: string;
}

export interface FaultProxy {
  /** `http(s)://127.0.0.1:<port>`: give it to the client in place of the service's address. */
  readonly url: string;
  readonly port: number;
  /** Every request seen, oldest first. */
  readonly requests: readonly ProxyLogEntry[];
  /** Arrange a fault; returns a function that removes it. */
  inject(rule: FaultRule): () => void;
  /**
   * Called for every request before any fault is chosen, with its index (0 = the first the proxy
   * saw), so a test can arm faults or change the service at an exact point of a conversation.
   */
  tap(listener: (request: ProxiedRequest, index: number) => void): () => void;
  clear(): void;
  close(): Promise<void>;
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  applied: number;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const upstreamRequest = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  let rules: ActiveRule[] = [];
  let taps: Array<(request: ProxiedRequest, index: number) => void> = [];
  const requests: ProxyLogEntry[] = [];
  const hanging = new Set<ServerResponse>();

  /** The first rule the request matches and that is due, counted on every rule it matches. */
  function faultFor(request: ProxiedRequest): Fault | undefined {
    let chosen: Fault | undefined;
    for (const active of rules) {
      if (active.rule.match && !active.rule.match(request)) continue;
      active.seen++;
      const due =
        active.seen > (active.rule.after ?? 0) &&
        active.applied < (active.rule.times ?? Number.POSITIVE_INFINITY);
      if (due && !chosen) {
        active.applied++;
        chosen = active.rule.fault;
      }
    }
    return chosen;
  }

  function forward(
    request: ProxiedRequest,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const headers = { ...request.headers, host: upstream.host };
    delete headers.connection;
    return new Promise((resolve, reject) => {
      const outgoing = upstreamRequest(
        new URL(request.path, upstream),
        { method: request.method, headers, ca: options.upstreamCaPem },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 502,
              headers: response.headers,
              body: Buffer.concat(chunks),
            }),
          );
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }

  function reset(socket: Socket): void {
    // An RST, as a crashed peer or a middlebox sends, rather than an orderly FIN.
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  }

  function send(
    response: ServerResponse,
    status: number,
    headers: IncomingHttpHeaders,
    body: Buffer | string,
  ): void {
    const {
      'content-length': _length,
      'transfer-encoding': _encoding,
      connection: _connection,
      ...kept
    } = headers;
    response.writeHead(status, { ...kept, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const request: ProxiedRequest = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers: incoming.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const index = requests.length;
    const entry: ProxyLogEntry = { method: request.method, path: request.path, body: request.body };
    requests.push(entry);
    for (const listener of taps) listener(request, index);
    const fault = faultFor(request);
    entry.fault = fault?.kind;

    const hang = () => {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
    };
    switch (fault?.kind) {
      case 'hang':
        hang();
        return;
      case 'reset':
        reset(incoming.socket);
        return;
      case 'respond':
        send(
          response,
          fault.status,
          { 'content-type': fault.contentType ?? 'text/html; charset=utf-8', ...fault.headers },
          fault.body,
        );
        return;
      default: {
        const answer = await forward(request);
        if (fault?.kind === 'lose-answer') {
          if (fault.then === 'silence') hang();
          else reset(incoming.socket);
          return;
        }
        const body = fault?.kind === 'rewrite' ? fault.body(answer.body.toString('utf8')) : answer.body;
        send(response, answer.status, answer.headers, body);
      }
    }
  }

  const listener = (incoming: IncomingMessage, response: ServerResponse) => {
    handle(incoming, response).catch(() => response.destroy());
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, listener)
    : createHttpServer(listener);
  const loopback = await listenOnLoopback(server);

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${loopback.port}`,
    port: loopback.port,
    requests,
    inject(rule) {
      const active = { rule, seen: 0, applied: 0 };
      rules.push(active);
      return () => {
        rules = rules.filter((candidate) => candidate !== active);
      };
    },
    tap(listener) {
      taps.push(listener);
      return () => {
        taps = taps.filter((candidate) => candidate !== listener);
      };
    },
    clear() {
      rules = [];
      taps = [];
    },
    close() {
      for (const response of hanging) response.destroy();
      return loopback.close();
    },
  };
}
