import { MalformedResponseError } from '../malformed-response.js';

/**
 * The one seam between the verifier and a Kubernetes API server. Production talks HTTPS with the
 * cluster's CA (kube-client.ts); tests use the loopback API fake or an in-memory double.
 */

export type KubeMethod = 'GET' | 'POST' | 'PATCH';

export interface KubeRequest {
  method: KubeMethod;
  /** Built by paths.ts, so every name in it was validated before it reached the URL. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Defaults to application/json; a PATCH must say which patch it is. */
  contentType?: 'application/json' | 'application/merge-patch+json';
  signal?: AbortSignal;
}

export interface KubeApi {
  /** Resolves to the parsed JSON body of a 2xx answer; rejects with KubeApiError otherwise. */
  request<T = unknown>(request: KubeRequest): Promise<T>;
}

export const MERGE_PATCH = 'application/merge-patch+json';

/** Read one object. */
export function getObject<T>(api: KubeApi, path: string, signal?: AbortSignal): Promise<T> {
  return api.request<T>({ method: 'GET', path, signal });
}

/** RFC 7386 JSON merge patch: what kubectl and the Argo plugin send for abort and promote. */
export function mergePatch<T>(api: KubeApi, path: string, patch: unknown, signal?: AbortSignal): Promise<T> {
  return api.request<T>({ method: 'PATCH', path, body: patch, contentType: MERGE_PATCH, signal });
}

export function createObject<T>(api: KubeApi, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return api.request<T>({ method: 'POST', path, body, signal });
}

export interface ObjectList<T> {
  items: T[];
}

/** List objects matching equality label selectors, e.g. `{ 'kubernetes.io/service-name': 'checkout' }`. */
export async function listObjects<T>(
  api: KubeApi,
  path: string,
  labels: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<ObjectList<T>> {
  const selector = Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const list = await api.request<Partial<ObjectList<T>> | undefined>({
    method: 'GET',
    path,
    query: selector ? { labelSelector: selector } : undefined,
    signal,
  });
  // The API server always sends `items` (`[]` when nothing matches): a List without them is no answer.
  if (!Array.isArray(list?.items)) {
    throw new MalformedResponseError(`GET ${path}`, 'HTTP 200 with a List without items');
  }
  return { ...list, items: list.items };
}

/** The API of the cluster a rollout runs in; `undefined` = the only configured cluster. */
export type KubeApiForCluster = (cluster: string | undefined) => Promise<KubeApi>;
