import { KubernetesName, KubernetesNamespace } from '../contracts/rollout-event.js';

/**
 * API paths built only from validated names: a name that is not a DNS-1123 name never reaches a
 * URL (no `..`, `/`, `?` or percent-escapes smuggled into a request).
 */

export class InvalidKubernetesNameError extends Error {
  override readonly name = 'InvalidKubernetesNameError';
}

function checked(kind: 'namespace' | 'name', value: string, schema: typeof KubernetesName): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidKubernetesNameError(
      `invalid Kubernetes ${kind} ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message ?? 'rejected'}`,
    );
  }
  return parsed.data;
}

const namespaceOf = (namespace: string) => checked('namespace', namespace, KubernetesNamespace);
const nameOf = (name: string) => checked('name', name, KubernetesName);

/** API groups and versions are code constants, never input, but are checked all the same. */
const API_SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
function segment(value: string): string {
  if (!API_SEGMENT.test(value))
    throw new InvalidKubernetesNameError(`invalid API path segment ${JSON.stringify(value)}`);
  return value;
}

export const ROLLOUT_API_VERSION = 'argoproj.io/v1alpha1';

export function rolloutPath(namespace: string, name: string, subresource?: 'status'): string {
  const base = `/apis/argoproj.io/v1alpha1/namespaces/${namespaceOf(namespace)}/rollouts/${nameOf(name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

export function eventsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespaceOf(namespace)}/events`;
}

export function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespaceOf(namespace)}/services/${nameOf(name)}`;
}

export function endpointSlicesPath(namespace: string): string {
  return `/apis/discovery.k8s.io/v1/namespaces/${namespaceOf(namespace)}/endpointslices`;
}

/** A namespaced custom resource (VirtualService, DestinationRule, Mapping…), or its collection without a name. */
export function customObjectPath(
  group: string,
  version: string,
  plural: string,
  namespace: string,
  name?: string,
): string {
  const collection = `/apis/${segment(group)}/${segment(version)}/namespaces/${namespaceOf(namespace)}/${segment(plural)}`;
  return name === undefined ? collection : `${collection}/${nameOf(name)}`;
}
