/** API groups, versions, kinds and resource names (plurals). */

export interface KubeObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  [field: string]: unknown;
}

/** `argoproj.io/v1alpha1` → { group: 'argoproj.io', version: 'v1alpha1' }; `v1` → the core group ''. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export const joinApiVersion = (group: string, version: string) => (group ? `${group}/${version}` : version);

/** Kinds whose resource name the guess below gets wrong, or that tests use often enough to spell out. */
const PLURALS: Record<string, string> = {
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslices',
  Event: 'events',
  Ingress: 'ingresses',
  VirtualService: 'virtualservices',
  DestinationRule: 'destinationrules',
  Mapping: 'mappings',
  Rollout: 'rollouts',
  AnalysisRun: 'analysisruns',
  TargetGroupBinding: 'targetgroupbindings',
};
const KINDS = Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind]));

/** The resource name of a kind: the table above, else apimachinery's UnsafeGuessKindToResource. */
export function pluralOf(kind: string): string {
  const known = PLURALS[kind];
  if (known) return known;
  const singular = kind.toLowerCase();
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

/** The kind of a resource name, for `<Kind>List` when the collection is empty: the table, else a guess. */
export function guessKindOf(plural: string): string {
  const known = KINDS[plural];
  if (known) return known;
  const singular = plural.endsWith('ies')
    ? `${plural.slice(0, -3)}y`
    : plural.endsWith('ses')
      ? plural.slice(0, -2)
      : plural.replace(/s$/, '');
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}

/**
 * Built-in API groups (core, `apps`, `*.k8s.io`, …) serve typed lists whose items carry no
 * apiVersion/kind; custom resources (argoproj.io, networking.istio.io, elbv2.k8s.aws, …) keep them.
 */
export const isBuiltInGroup = (group: string) =>
  group === '' || !group.includes('.') || group.endsWith('.k8s.io');
