import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { binaryPath, checkPinnedChecksum } from '../build/build.js';
import { argoBinaryName, readVersions } from '../build/versions.js';
import { type ControlPlane, readManifests, readManifestTexts } from '../cluster/control-plane.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { cachePaths, repoDir } from '../paths.js';
import { freePort, type ManagedProcess, startProcess, waitFor } from '../runtime/processes.js';

export const ARGO_NAMESPACE = 'argo-rollouts';
/**
 * The releases issue 14 names, and v1.6.6: the last release with argo-rollouts#3593 (its
 * buildCanaryService splits the base Mapping's service on ':' and loses the scheme); v1.7.0 already
 * carries the fix (strings.Replace of the stable Service name), so v1.7.2 cannot show it.
 */
export const ARGO_VERSIONS = ['v1.9.1', 'v1.8.2', 'v1.7.2', 'v1.6.6'] as const;
export type ArgoVersion = (typeof ARGO_VERSIONS)[number];

/** The release's own module, as the lab's build downloaded it into its module cache. */
function argoModuleDir(version: ArgoVersion): string {
  return join(cachePaths.goModules, 'github.com', 'argoproj', `argo-rollouts@${version}`);
}

/**
 * Ambassador's Mapping CRD: no module the Go proxy serves here carries it (emissary-ingress and
 * datawire/ambassador are refused), so the lab generates the smallest CRD that lets the API server
 * store Mappings: group getambassador.io, v2 (Argo's default --ambassador-api-version, storage)
 * and v3alpha1 served, schema left open. Argo and the verifier read and write the same objects.
 */
export function minimalAmbassadorMappingCrd(): KubeObject {
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'mappings.getambassador.io' },
    spec: {
      group: 'getambassador.io',
      scope: 'Namespaced',
      names: { plural: 'mappings', singular: 'mapping', kind: 'Mapping', listKind: 'MappingList' },
      versions: [version('v2', true), version('v3alpha1', false)],
    },
  };
}

/**
 * Argo Rollouts' CRDs from that release's module (manifests/crds), Istio's from its
 * test/e2e/crds/istio.yaml, the generated Ambassador Mapping CRD; each waited for until served.
 */
export async function installCrds(kube: KubeClient, version: ArgoVersion): Promise<string[]> {
  const dir = argoModuleDir(version);
  const files = [
    'manifests/crds/rollout-crd.yaml',
    'manifests/crds/experiment-crd.yaml',
    'manifests/crds/analysis-run-crd.yaml',
    'manifests/crds/analysis-template-crd.yaml',
    'manifests/crds/cluster-analysis-template-crd.yaml',
    'test/e2e/crds/istio.yaml',
  ];
  const crds: KubeObject[] = [minimalAmbassadorMappingCrd()];
  await kube.apply(crds[0]!);
  for (const file of files) {
    for (const { text, object } of await readManifestTexts(join(dir, file))) {
      if (object.kind !== 'CustomResourceDefinition') continue;
      await kube.applyYaml(text, object as unknown as KubeObject);
      crds.push(object as unknown as KubeObject);
    }
  }
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata.name} established`, async () => {
      const live = await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', crd.metadata.name);
      const conditions = (live?.status?.conditions ?? []) as Array<{ type: string; status: string }>;
      return conditions.some((condition) => condition.type === 'Established' && condition.status === 'True');
    });
  }
  kube.forgetDiscovery();
  return crds.map((crd) => crd.metadata.name);
}

/**
 * The cluster side of the verifier from the project's own deploy/cluster: the notifications
 * ConfigMap, the two ClusterRoles and their bindings, and the Secret filled with the lab's
 * webhook URL and token (as docs/install-cluster.md fills it).
 */
export async function installVerifierClusterSide(
  kube: KubeClient,
  webhook: { url: string; token: string },
): Promise<void> {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGO_NAMESPACE } });
  const cluster = join(repoDir, 'deploy', 'cluster');
  for (const file of [
    'argo-rollouts-notification-configmap.yaml',
    'clusterroles.yaml',
    'clusterrolebindings.yaml',
  ]) {
    for (const object of await readManifests(join(cluster, file)))
      await kube.apply(object as unknown as KubeObject);
  }
  const template = parse(
    await readFile(join(cluster, 'argo-rollouts-notification-secret.yaml'), 'utf8'),
  ) as KubeObject;
  await kube.apply({
    ...template,
    stringData: { 'rollout-verifier-url': webhook.url, 'rollout-verifier-token': webhook.token },
  });
}

export interface ArgoController {
  version: ArgoVersion;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The release's rollouts-controller against the lab's API server. It binds its metrics and
 * healthz servers to 0.0.0.0 (a constant in controller/controller.go, no flag), which is why the
 * lab runs in a network namespace of its own that has nothing but loopback.
 */
export async function startArgoController(
  control: ControlPlane,
  version: ArgoVersion,
  runDir: string,
): Promise<ArgoController> {
  const name = argoBinaryName(version);
  const build = readVersions().builds.find((candidate) => name in candidate.binaries)!;
  const problem = await checkPinnedChecksum(build, name);
  if (problem) throw new Error(`${name}: sha256 ${problem.actual} is not the pinned ${problem.expected}`);
  const [metricsPort, healthzPort] = [await freePort(), await freePort()];
  const process = startProcess({
    name: `argo-rollouts-${version}`,
    command: binaryPath(name),
    args: [
      `--kubeconfig=${await control.kubeconfigFor('argoRollouts')}`,
      '--leader-elect=false',
      `--metricsport=${metricsPort}`,
      `--healthzPort=${healthzPort}`,
      '--loglevel=info',
    ],
    env: { ...globalThis.process.env, POD_NAMESPACE: ARGO_NAMESPACE },
    logDir: runDir,
  });
  await waitFor(
    `argo-rollouts ${version} healthz`,
    async () => (await fetch(`http://127.0.0.1:${healthzPort}/healthz`)).ok,
    {
      process,
      timeoutMs: 60_000,
    },
  );
  return { version, process, stop: () => process.stop() };
}
