import type { KubeApi, KubeRequest } from '../../lambdas/core/cluster/kube-api.js';
import { KubeApiError } from '../../lambdas/core/cluster/kube-errors.js';

/**
 * An in-memory KubeApi for unit tests: objects by API group, plural, namespace and name, served
 * under whichever versions the test says the cluster serves; label-selector lists; injected
 * failures answered the way an API server answers (KubeApiError with status and reason). Every
 * request is recorded. For wire-level tests use the loopback API server in sim/kube.
 *
 *   const kube = new KubeDouble({ served: { 'networking.istio.io': ['v1alpha3'] } });
 *   kube.put('networking.istio.io', 'virtualservices', 'shop', 'checkout', virtualService);
 *   kube.fail({ plural: 'destinationrules' }, 403);
 */

export interface StoredObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface FailureMatch {
  group?: string;
  plural?: string;
  namespace?: string;
  name?: string;
  method?: KubeRequest['method'];
}

interface Failure {
  match: FailureMatch;
  status: number;
  /** Answers left; Infinity until cleared. */
  remaining: number;
}

interface ParsedPath {
  group: string;
  version: string;
  namespace: string;
  plural: string;
  name?: string;
}

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export class KubeDouble implements KubeApi {
  readonly requests: KubeRequest[] = [];
  private readonly objects = new Map<string, StoredObject>();
  private readonly failures: Failure[] = [];
  /** API group → versions served; a group not listed is served under any version. */
  private readonly served: Record<string, readonly string[]>;

  constructor(options: { served?: Record<string, readonly string[]> } = {}) {
    this.served = options.served ?? {};
  }

  /** Store (or replace) an object; `group` '' is the core API. */
  put(group: string, plural: string, namespace: string, name: string, object: StoredObject): this {
    const metadata = { ...object.metadata, name, namespace };
    this.objects.set(key(group, plural, namespace, name), structuredClone({ ...object, metadata }));
    return this;
  }

  delete(group: string, plural: string, namespace: string, name: string): this {
    this.objects.delete(key(group, plural, namespace, name));
    return this;
  }

  get(group: string, plural: string, namespace: string, name: string): StoredObject | undefined {
    return this.objects.get(key(group, plural, namespace, name));
  }

  /** Answer matching requests with this status, `times` times (default: until `clearFailures`). */
  fail(match: FailureMatch, status: number, times = Number.POSITIVE_INFINITY): this {
    this.failures.push({ match, status, remaining: times });
    return this;
  }

  clearFailures(): this {
    this.failures.length = 0;
    return this;
  }

  /** Requests so far whose path contains `fragment`. */
  count(fragment: string): number {
    return this.requests.filter((request) => request.path.includes(fragment)).length;
  }

  async request<T = unknown>(request: KubeRequest): Promise<T> {
    this.requests.push(request);
    if (request.signal?.aborted) {
      throw Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    }
    const path = parsePath(request.path);
    if (!path) throw this.error(request, 404, 'the server could not find the requested resource');
    const failure = this.failures.find(
      (candidate) => candidate.remaining > 0 && matches(candidate.match, path, request),
    );
    if (failure) {
      failure.remaining--;
      throw this.error(request, failure.status, failureMessage(failure.status, path));
    }
    const versions = this.served[path.group];
    if (versions && !versions.includes(path.version)) {
      throw this.error(request, 404, 'the server could not find the requested resource');
    }
    if (request.method !== 'GET')
      throw this.error(request, 405, `${request.method} is not supported by the double`);
    if (path.name === undefined) return structuredClone({ items: this.list(path, request.query) }) as T;
    const object = this.objects.get(key(path.group, path.plural, path.namespace, path.name));
    if (!object) {
      throw this.error(
        request,
        404,
        `${path.plural}${path.group ? `.${path.group}` : ''} "${path.name}" not found`,
      );
    }
    return structuredClone(object) as T;
  }

  private list(path: ParsedPath, query: Record<string, string> | undefined): StoredObject[] {
    const selector = parseSelector(query?.labelSelector);
    const prefix = `${path.group}|${path.plural}|${path.namespace}|`;
    return [...this.objects]
      .filter(([candidate]) => candidate.startsWith(prefix))
      .map(([, object]) => object)
      .filter((object) =>
        Object.entries(selector).every(([label, value]) => object.metadata?.labels?.[label] === value),
      );
  }

  private error(request: KubeRequest, status: number, message: string): KubeApiError {
    return new KubeApiError({
      status,
      method: request.method,
      path: request.path,
      message: `${request.method} ${request.path}: ${message}`,
      reason: REASONS[status],
    });
  }
}

/** A KubeApiForCluster over one double (any cluster name), or failing the way ClusterApis does. */
export function kubeFor(double: KubeApi | Error): (cluster: string | undefined) => Promise<KubeApi> {
  return async () => {
    if (double instanceof Error) throw double;
    return double;
  };
}

/** An EndpointSlice of `service` with ready and not-ready IPv4 addresses. */
export function endpointSlice(service: string, ready: string[], notReady: string[] = []): StoredObject {
  return {
    addressType: 'IPv4',
    metadata: { labels: { 'kubernetes.io/service-name': service } },
    endpoints: [
      ...ready.map((address) => ({ addresses: [address], conditions: { ready: true } })),
      ...notReady.map((address) => ({ addresses: [address], conditions: { ready: false } })),
    ],
  };
}

function key(group: string, plural: string, namespace: string, name: string): string {
  return `${group}|${plural}|${namespace}|${name}`;
}

function parsePath(path: string): ParsedPath | undefined {
  const core = /^\/api\/(v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (core) {
    return {
      group: '',
      version: core[1] ?? '',
      namespace: core[2] ?? '',
      plural: core[3] ?? '',
      name: core[4],
    };
  }
  const grouped = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!grouped) return undefined;
  return {
    group: grouped[1] ?? '',
    version: grouped[2] ?? '',
    namespace: grouped[3] ?? '',
    plural: grouped[4] ?? '',
    name: grouped[5],
  };
}

function matches(match: FailureMatch, path: ParsedPath, request: KubeRequest): boolean {
  return (
    (match.group === undefined || match.group === path.group) &&
    (match.plural === undefined || match.plural === path.plural) &&
    (match.namespace === undefined || match.namespace === path.namespace) &&
    (match.name === undefined || match.name === path.name) &&
    (match.method === undefined || match.method === request.method)
  );
}

function parseSelector(selector: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const term of (selector ?? '').split(',').filter(Boolean)) {
    const [label = '', value = ''] = term.split('=');
    labels[label] = value;
  }
  return labels;
}

function failureMessage(status: number, path: ParsedPath): string {
  const resource = `${path.plural}${path.group ? `.${path.group}` : ''}`;
  if (status === 403) {
    return `${resource} "${path.name ?? ''}" is forbidden: User "arn:aws:sts::123456789012:assumed-role/verify/fn" cannot ${path.name === undefined ? 'list' : 'get'} resource "${path.plural}" in API group "${path.group}" in the namespace "${path.namespace}"`;
  }
  if (status === 404) return `${resource} "${path.name ?? ''}" not found`;
  return REASONS[status] ?? `HTTP ${status}`;
}
