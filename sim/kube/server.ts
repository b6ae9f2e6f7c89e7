import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { listenOnLoopback } from '../loopback-server.js';
import { type ClusterCertificates, generateClusterCertificates } from './certificates.js';
import { type CustomResourceType, loadCrds, ROLLOUT_CRD_PATH } from './crd-validation.js';
import { Faults, type Injection, injectedFailure, type RbacDenial, type RequestFacts } from './faults.js';
import { type KubeObject, splitApiVersion } from './naming.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import {
  badRequest,
  forbidden,
  internalError,
  methodNotSupported,
  PathNotFoundError,
  pathNotFound,
  type RequestAttributes,
  requestEntityTooLarge,
  StatusError,
  unauthorized,
  unsupportedMediaType,
} from './status.js';
import { type FieldValidation, ObjectStore, type Target } from './store.js';

export interface KubeUser {
  user: string;
  groups?: string[];
}

export interface KubeSimOptions {
  /** A bundle from `generateClusterCertificates()`, to share one across the sims of a test file. */
  certificates?: ClusterCertificates;
  /** The bearer token accepted when there is no `authenticate` (default `kube-sim-token`). */
  token?: string;
  /** Who that token is (default `rollout-verifier`, groups `system:authenticated`). */
  user?: KubeUser;
  /** Decide who a bearer token is; undefined = 401. Replaces `token`. */
  authenticate?: (token: string) => KubeUser | undefined;
  /**
   * RBAC: whether the authenticated user may make a request (false = 403, worded as the API server
   * words it). Default: everything is allowed except what `forbid()` denies. With it, a request
   * must be allowed here AND not denied by `forbid()`. See sim/rbac.ts.
   */
  authorize?: (request: RequestAttributes & { groups: readonly string[] }) => boolean;
  /** CRD YAML files whose types are validated (default: the Argo Rollouts v1.9.1 CRD). */
  crds?: string[];
  /** When a request has no `?fieldValidation=`: the API server's default is Warn, the fake's Strict. */
  fieldValidation?: FieldValidation;
  /** Request body limit (default 3 MiB, the API server's). */
  maxBodyBytes?: number;
  /** Objects present from the start, and again after `reset()`. */
  objects?: KubeObject[];
  /** The clock for creationTimestamp. */
  now?: () => Date;
}

export interface RecordedRequest {
  method: string;
  /** Without the query. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** Parsed JSON (or YAML), else the raw text; undefined without a body. */
  body: unknown;
  /** What was answered (also for injected failures). */
  status: number;
  /** The authenticated user, if any. */
  user: string | undefined;
}

export interface KubeSim {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** The cluster CA: the only certificate a client should trust. */
  caPem: string;
  /** The token accepted by default. */
  token: string;
  /** Every request answered so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  timings: {
    /** 0 when certificates were passed in. */
    certificatesMs: number;
    /** Compiling the CRD schemas: paid by the first sim of a process, reused by the next. */
    crdCompileMs: number;
  };
  /** Fail (or delay) the next matching request(s); returns a remover. */
  inject(injection: Injection): () => void;
  /** Deny a verb on a resource with RBAC's 403 until the returned function is called (or reset). */
  forbid(denial: RbacDenial): () => void;
  /** Seed or replace an object; see ObjectStore.put. */
  put(object: KubeObject, options?: { plural?: string; validate?: boolean }): KubeObject;
  /** A deep copy of a stored object, or undefined. */
  object(apiVersion: string, plural: string, namespace: string, name: string): KubeObject | undefined;
  /** A controller deleting an object (not logged with the requests, like `put`). */
  remove(apiVersion: string, plural: string, namespace: string, name: string): KubeObject;
  /** Stored objects of a resource name, in any group, oldest write first. */
  list(plural: string, namespace?: string): KubeObject[];
  /** core/v1 and events.k8s.io Events, oldest first. */
  events(namespace?: string): KubeObject[];
  /** Back to the start: the seeded objects only, no requests, injections or denials. */
  reset(): void;
  /** Stop listening and drop every connection, keep-alive ones included. */
  close(): Promise<void>;
}

const DEFAULT_TOKEN = 'kube-sim-token';
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const FIELD_VALIDATIONS: readonly string[] = ['Strict', 'Warn', 'Ignore'];
const CREATE_MEDIA_TYPES = ['application/json', 'application/yaml'];
const PATCH_MEDIA_TYPES = ['application/merge-patch+json'];

/** A parsed resource path. */
interface Route extends Target {
  subresource?: string;
}

/**
 * `/api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]`, `/apis/{group}/{version}/namespaces/…`, and
 * `/api/v1/{plural}`, `/apis/{group}/{version}/{plural}` (every namespace). Anything else: undefined.
 */
function routeOf(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments.some((segment) => segment === '')) return undefined;
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    [group, version, rest] = ['', 'v1', segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
  } else {
    return undefined;
  }
  if (rest.length === 1) return { group, version, plural: rest[0] ?? '' };
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 5) return undefined;
  const [, namespace, plural = '', name, subresource] = rest;
  return { group, version, plural, namespace, name, subresource };
}

function verbOf(method: string, route: Route | undefined, query: URLSearchParams): string {
  switch (method) {
    case 'GET':
      if (route?.name) return 'get';
      return query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route?.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase() ?? '';

/** The body, unless it exceeds the limit (then drained and dropped). */
async function readBody(
  request: IncomingMessage,
  limit: number,
): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return { text: size <= limit ? Buffer.concat(chunks).toString('utf8') : '', tooLarge: size > limit };
}

function parseBody(text: string, type: string): unknown {
  if (text === '') return undefined;
  try {
    return type === 'application/yaml' ? parseYaml(text) : JSON.parse(text);
  } catch {
    return text;
  }
}

/** Starts the fake API server on 127.0.0.1, on a free port. */
export async function startKubeSim(options: KubeSimOptions = {}): Promise<KubeSim> {
  const certificatesStarted = performance.now();
  const certificates = options.certificates ?? (await generateClusterCertificates());
  const certificatesMs = options.certificates ? 0 : Math.round(performance.now() - certificatesStarted);

  const crdFiles = options.crds ?? [ROLLOUT_CRD_PATH];
  const crds: CustomResourceType[] = [];
  let crdCompileMs = 0;
  for (const file of crdFiles) {
    const loaded = loadCrds(file);
    crds.push(...loaded.types);
    crdCompileMs += loaded.compileMillis;
  }

  const token = options.token ?? DEFAULT_TOKEN;
  const tokenUser = options.user ?? { user: 'rollout-verifier', groups: ['system:authenticated'] };
  const authenticate =
    options.authenticate ?? ((candidate: string) => (candidate === token ? tokenUser : undefined));
  const defaultFieldValidation = options.fieldValidation ?? 'Strict';
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;

  const store = new ObjectStore(crds, options.now);
  const seed = () => {
    for (const object of options.objects ?? []) store.put(object);
  };
  seed();
  const faults = new Faults();
  const requests: RecordedRequest[] = [];
  const pendingDelays = new Set<() => void>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      pendingDelays.add(done);
    });

  /** Everything after the body is read: who, what, then the answer. */
  async function answer(
    request: IncomingMessage,
    url: URL,
    record: RecordedRequest,
    tooLarge: boolean,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string | string[]> }> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    const identity = bearer === undefined ? undefined : authenticate(bearer);
    if (!identity) throw unauthorized();
    record.user = identity.user;

    const route = routeOf(url.pathname);
    const verb = verbOf(record.method, route, url.searchParams);
    const facts: RequestFacts = {
      method: record.method,
      path: url.pathname,
      user: identity.user,
      verb,
      group: route?.group ?? '',
      resource: route?.plural ?? '',
      subresource: route?.subresource,
      namespace: route?.namespace,
      name: route?.name,
    };

    const injection = faults.takeInjection(facts);
    if (injection?.delayMs) await delay(injection.delayMs);
    if (injection?.status !== undefined)
      throw injectedFailure({ ...injection, status: injection.status }, facts);

    if (!route) throw pathNotFound();
    if (faults.isDenied(facts)) throw forbidden(facts);
    if (options.authorize && !options.authorize({ ...facts, groups: identity.groups ?? [] }))
      throw forbidden(facts);
    if (tooLarge) throw requestEntityTooLarge(maxBodyBytes);

    const resource = { group: route.group, resource: route.plural };
    const requested = url.searchParams.get('fieldValidation') ?? '';
    const fieldValidation = FIELD_VALIDATIONS.includes(requested)
      ? (requested as FieldValidation)
      : defaultFieldValidation;
    const type = mediaType(record.contentType);
    const headersFor = (warnings: string[]) =>
      warnings.length > 0
        ? { Warning: warnings.map((warning) => `299 - ${JSON.stringify(warning)}`) }
        : undefined;

    if (route.subresource !== undefined) {
      if (route.subresource !== 'status' || !store.hasStatusSubresource(route)) throw pathNotFound();
      if (verb !== 'get' && verb !== 'patch') throw methodNotSupported(resource, verb);
    }
    if (route.namespace === undefined && verb !== 'list') throw methodNotSupported(resource, verb);

    switch (verb) {
      case 'get':
        return { status: 200, body: store.get(route) };
      case 'list': {
        try {
          const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
          const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '');
          return { status: 200, body: store.list(route, labels, fields) };
        } catch (error) {
          if (error instanceof SelectorError) throw badRequest(error.message);
          throw error;
        }
      }
      case 'create': {
        if (route.name !== undefined) throw methodNotSupported(resource, verb);
        if (!CREATE_MEDIA_TYPES.includes(type)) throw unsupportedMediaType(CREATE_MEDIA_TYPES);
        if (typeof record.body === 'string' || record.body === undefined) {
          throw badRequest(
            `couldn't get version/kind; json parse error: ${record.body === undefined ? 'empty body' : 'invalid JSON'}`,
          );
        }
        const { object, warnings } = store.create(route, record.body, fieldValidation);
        return { status: 201, body: object, headers: headersFor(warnings) };
      }
      case 'patch': {
        if (!PATCH_MEDIA_TYPES.includes(type)) throw unsupportedMediaType(PATCH_MEDIA_TYPES);
        if (typeof record.body === 'string' || record.body === undefined) {
          throw badRequest(
            `error decoding patch: ${record.body === undefined ? 'empty body' : 'invalid JSON'}`,
          );
        }
        const { object, warnings } = store.patch(route, route.subresource, record.body, fieldValidation);
        return { status: 200, body: object, headers: headersFor(warnings) };
      }
      case 'delete':
        return { status: 200, body: store.delete(route) };
      default:
        throw methodNotSupported(resource, verb);
    }
  }

  const server = createServer(
    { key: certificates.keyPem, cert: certificates.certPem },
    (request, response) => {
      // A client that hangs up mid-request leaves nothing to answer.
      handle(request, response).catch(() => response.destroy());
    },
  );

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const contentType = request.headers['content-type'];
    const { text, tooLarge } = await readBody(request, maxBodyBytes);
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      body: parseBody(text, mediaType(contentType)),
      status: 0,
      user: undefined,
    };
    let status: number;
    let body: unknown;
    let plainText: string | undefined;
    let headers: Record<string, string | string[]> = {};
    try {
      const answered = await answer(request, url, record, tooLarge);
      ({ status, body } = answered);
      headers = answered.headers ?? {};
    } catch (error) {
      const failure =
        error instanceof StatusError
          ? error
          : internalError(error instanceof Error ? error.message : String(error));
      status = failure.status.code;
      body = failure.status;
      plainText = failure instanceof PathNotFoundError ? failure.plainText : undefined;
      headers = {};
      const retryAfter = failure.status.details?.retryAfterSeconds;
      if (retryAfter && retryAfter > 0) headers['Retry-After'] = String(retryAfter);
    }
    record.status = status;
    requests.push(record);
    if (response.destroyed) return; // the client gave up (e.g. during an injected delay)
    response.writeHead(status, {
      'Content-Type': plainText === undefined ? 'application/json' : 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
      ...headers,
    });
    response.end(plainText ?? JSON.stringify(body));
  }

  const listener = await listenOnLoopback(server);
  const { port } = listener;

  return {
    url: `https://127.0.0.1:${port}`,
    caPem: certificates.caPem,
    token,
    requests,
    timings: { certificatesMs, crdCompileMs },
    inject: (injection) => faults.inject(injection),
    forbid: (denial) => faults.forbid(denial),
    put: (object, putOptions) => store.put(object, putOptions),
    object: (apiVersion, plural, namespace, name) =>
      store.find(splitApiVersion(apiVersion).group, plural, namespace, name),
    remove: (apiVersion, plural, namespace, name) =>
      store.delete({ ...splitApiVersion(apiVersion), plural, namespace, name }),
    list: (plural, namespace) => store.select(undefined, plural, namespace),
    events: (namespace) =>
      [...store.select('', 'events', namespace), ...store.select('events.k8s.io', 'events', namespace)].sort(
        (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
      ),
    reset() {
      store.clear();
      seed();
      faults.clear();
      requests.length = 0;
    },
    close: () => {
      for (const release of pendingDelays) release();
      return listener.close();
    },
  };
}
