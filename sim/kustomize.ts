import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The part of `kustomize build` deploy/cluster uses, for tests: `resources` (files, or directories
 * with a kustomization.yaml), `components` (directories with a `kind: Component`
 * kustomization.yaml), and `namespace` (set on every namespaced object, cluster-scoped kinds left
 * alone). Anything else in a kustomization.yaml fails loudly rather than being ignored.
 */

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
  rules?: PolicyRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { apiGroup?: string; kind: string; name: string; namespace?: string }[];
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Kustomization {
  apiVersion: string;
  kind: 'Kustomization' | 'Component';
  namespace?: string;
  resources?: string[];
  components?: string[];
}

export interface BuiltObject {
  /** The file the object came from, relative to the kustomization that listed it. */
  file: string;
  manifest: Manifest;
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components']);
const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'Namespace',
  'CustomResourceDefinition',
  // A custom kind: kustomize may stamp the namespace on it, which the API server clears for a
  // cluster-scoped resource (rest.BeforeCreate); left alone here, as it ends up.
  'ClusterAnalysisTemplate',
]);

/** Every YAML document of a file, failing on any parse error or warning. */
export function readDocuments(url: URL): Manifest[] {
  const documents = parseAllDocuments(readFileSync(url, 'utf8'));
  const manifests: Manifest[] = [];
  for (const document of documents) {
    const problems = [...document.errors, ...document.warnings].map((problem) => problem.message);
    if (problems.length > 0) throw new Error(`${fileURLToPath(url)}: ${problems.join('; ')}`);
    const value = document.toJS() as Manifest | null;
    if (value !== null) manifests.push(value);
  }
  return manifests;
}

export function readKustomization(dir: URL): Kustomization {
  const kustomization = parse(readFileSync(new URL('kustomization.yaml', dir), 'utf8')) as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new Error(`${fileURLToPath(dir)}kustomization.yaml: unsupported ${unknown}`);
  return kustomization;
}

const asDirectory = (url: URL) => (url.href.endsWith('/') ? url : new URL(`${url.href}/`));

/**
 * What `kubectl apply -k <dir>` sends. `overlay` builds a kustomization that exists only in the
 * test, rooted at `dir` (an overlay naming a namespace, or adding components).
 */
export function kustomizeBuild(dir: URL, overlay?: Omit<Kustomization, 'apiVersion'>): BuiltObject[] {
  const root = asDirectory(dir);
  const kustomization = overlay ?? readKustomization(root);
  const built = (kustomization.resources ?? []).flatMap((entry) => {
    const url = new URL(entry, root);
    if (!existsSync(url)) throw new Error(`${entry} listed in ${fileURLToPath(root)} does not exist`);
    if (statSync(url).isDirectory()) {
      const nested = readKustomization(asDirectory(url));
      if (nested.kind !== 'Kustomization') throw new Error(`${entry} is a ${nested.kind}, not a resource`);
      return kustomizeBuild(url);
    }
    return readDocuments(url).map((manifest) => ({ file: entry, manifest }));
  });
  for (const entry of kustomization.components ?? []) {
    const url = asDirectory(new URL(entry, root));
    const component = readKustomization(url);
    if (component.kind !== 'Component') throw new Error(`${entry} is a ${component.kind}, not a Component`);
    built.push(
      ...kustomizeBuild(url, component).map(({ file, manifest }) => ({ file: `${entry}/${file}`, manifest })),
    );
  }
  const names = built.map(
    ({ manifest }) => `${manifest.kind}/${manifest.metadata.namespace ?? ''}/${manifest.metadata.name}`,
  );
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`${fileURLToPath(root)}: ${duplicate} is built twice`);
  if (!kustomization.namespace) return built;
  return built.map(({ file, manifest }) =>
    CLUSTER_SCOPED.has(manifest.kind)
      ? { file, manifest }
      : {
          file,
          manifest: { ...manifest, metadata: { ...manifest.metadata, namespace: kustomization.namespace } },
        },
  );
}
