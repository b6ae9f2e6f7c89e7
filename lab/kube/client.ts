import { request } from 'node:https';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`${method} ${path} → ${status}: ${body.slice(0, 500)}`);
  }
}

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/**
 * The lab's own client for the real API server: HTTPS trusting only the lab's CA, a bearer token,
 * paths found through API discovery (so any CRD the lab installs is addressable by kind).
 */
export class KubeClient {
  private readonly discovered = new Map<string, Map<string, ResourceInfo>>();

  constructor(
    readonly server: string,
    private readonly caPem: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return await new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.caPem,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': contentType } : {}),
          },
          timeout: 15_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 300) reject(new KubeError(status, method, path, text));
            else resolve((res.headers['content-type']?.includes('json') ? JSON.parse(text) : text) as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** The collection path of a kind: `/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts`. */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const info = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return info.namespaced && namespace
      ? `${base}/namespaces/${namespace}/${info.plural}`
      : `${base}/${info.plural}`;
  }

  async objectPath(apiVersion: string, kind: string, name: string, namespace?: string): Promise<string> {
    return `${await this.collectionPath(apiVersion, kind, namespace)}/${name}`;
  }

  /** Forgets discovery (after CRDs were installed or replaced). */
  forgetDiscovery(): void {
    this.discovered.clear();
  }

  private async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let kinds = this.discovered.get(apiVersion);
    if (!kinds?.has(kind)) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const list = await this.request<{
        resources: Array<{ name: string; kind: string; namespaced: boolean }>;
      }>('GET', base);
      kinds = new Map(
        list.resources
          .filter((resource) => !resource.name.includes('/'))
          .map((resource) => [resource.kind, { plural: resource.name, namespaced: resource.namespaced }]),
      );
      this.discovered.set(apiVersion, kinds);
    }
    const info = kinds.get(kind);
    if (!info) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return info;
  }

  /** Server-side apply, as `kubectl apply --server-side --force-conflicts` does. */
  async apply(object: KubeObject, fieldManager = 'rollout-verifier-lab'): Promise<KubeObject> {
    const path = await this.objectPath(
      object.apiVersion,
      object.kind,
      object.metadata.name,
      object.metadata.namespace,
    );
    return await this.request<KubeObject>(
      'PATCH',
      `${path}?fieldManager=${fieldManager}&force=true`,
      object,
      'application/apply-patch+yaml',
    );
  }

  /**
   * Server-side apply of a YAML document as it is: the API server's own YAML parser reads it
   * (upstream CRDs carry flow scalars under-indented the way Go's parser accepts and the `yaml`
   * package does not), `identity` only names where it goes.
   */
  async applyYaml(
    text: string,
    identity: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
    fieldManager = 'rollout-verifier-lab',
  ): Promise<KubeObject> {
    const path = await this.objectPath(
      identity.apiVersion,
      identity.kind,
      identity.metadata.name,
      identity.metadata.namespace,
    );
    return await this.request<KubeObject>(
      'PATCH',
      `${path}?fieldManager=${fieldManager}&force=true`,
      text,
      'application/apply-patch+yaml',
    );
  }

  async get<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | null> {
    try {
      return await this.request<T>('GET', await this.objectPath(apiVersion, kind, name, namespace));
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return null;
      throw error;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query = '',
  ): Promise<T[]> {
    const path = await this.collectionPath(apiVersion, kind, namespace);
    const list = await this.request<{ items: T[] }>('GET', `${path}${query ? `?${query}` : ''}`);
    return list.items;
  }

  async mergePatch(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    subresource?: 'status',
  ): Promise<KubeObject> {
    const path = await this.objectPath(apiVersion, kind, name, namespace);
    return await this.request<KubeObject>(
      'PATCH',
      subresource ? `${path}/${subresource}` : path,
      patch,
      'application/merge-patch+json',
    );
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<void> {
    try {
      await this.request('DELETE', await this.objectPath(apiVersion, kind, name, namespace));
    } catch (error) {
      if (!(error instanceof KubeError && error.status === 404)) throw error;
    }
  }
}
