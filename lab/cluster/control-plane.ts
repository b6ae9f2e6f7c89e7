import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generateClusterCertificates } from '../../sim/kube/certificates.js';
import { binaryPath } from '../build/build.js';
import { KubeClient } from '../kube/client.js';
import { freePort, type ManagedProcess, startProcess, waitFor } from '../runtime/processes.js';
import { kubeconfig, type LabIdentities, labIdentities, tokenAuthFile } from './identities.js';
import { kwokStagesConfig } from './kwok-stages.js';

export interface ControlPlane {
  server: string;
  caPem: string;
  identities: LabIdentities;
  admin: KubeClient;
  /** Writes a kubeconfig for one identity into the run folder and returns its path. */
  kubeconfigFor(who: keyof LabIdentities): Promise<string>;
  processes: ManagedProcess[];
  gitVersion: string;
  stop(): Promise<void>;
}

/** The lab's single fake node: kwok keeps it Ready and runs every pod scheduled onto it. */
export const LAB_NODE = 'lab-node-0';

/**
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on 127.0.0.1, in that
 * order, each waited for. Pods scheduled on the kwok node become Running/Ready with an IP from a
 * documentation range (TEST-NET-2: never routed, never contacted).
 */
export async function startControlPlane(runDir: string): Promise<ControlPlane> {
  const dir = join(runDir, 'control-plane');
  await mkdir(dir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const identities = labIdentities();
  const certificates = await generateClusterCertificates();
  const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const files = {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'apiserver.pem'),
    key: join(dir, 'apiserver-key.pem'),
    saKey: join(dir, 'service-account-key.pem'),
    saPub: join(dir, 'service-account.pub'),
    tokens: join(dir, 'tokens.csv'),
    kwokConfig: join(dir, 'kwok.yaml'),
  };
  await writeFile(files.ca, certificates.caPem);
  await writeFile(files.cert, certificates.certPem);
  await writeFile(files.key, certificates.keyPem, { mode: 0o600 });
  await writeFile(files.saKey, serviceAccountKey.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  await writeFile(files.saPub, serviceAccountKey.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(files.tokens, tokenAuthFile(identities), { mode: 0o600 });

  const [etcdClient, etcdPeer, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const etcd = startProcess({
    name: 'etcd',
    command: binaryPath('etcd'),
    args: [
      '--name=lab',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=lab=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls=',
      '--log-level=warn',
      // Unsafe on a real machine, right for a throwaway store: fewer fsyncs on a 2-core box.
      '--unsafe-no-fsync',
    ],
    logDir: runDir,
  });
  processes.push(etcd);
  await waitFor('etcd /health', async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok, {
    process: etcd,
  });

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserver = startProcess({
    name: 'kube-apiserver',
    command: binaryPath('kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${files.cert}`,
      `--tls-private-key-file=${files.key}`,
      `--token-auth-file=${files.tokens}`,
      '--anonymous-auth=false',
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // No "kubernetes" Service endpoints: they would name 127.0.0.1, which the API refuses.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=0',
    ],
    logDir: runDir,
  });
  processes.push(apiserver);
  const admin = new KubeClient(server, certificates.caPem, identities.admin.token);
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await admin.request<string>('GET', '/readyz')) !== undefined,
    {
      process: apiserver,
      timeoutMs: 90_000,
    },
  );
  const version = await admin.request<{ gitVersion: string }>('GET', '/version');

  const kubeconfigFor = async (who: keyof LabIdentities) => {
    const path = join(dir, `${who}.kubeconfig`);
    await writeFile(path, kubeconfig(server, certificates.caPem, identities[who]), { mode: 0o600 });
    return path;
  };

  processes.push(
    startProcess({
      name: 'kube-controller-manager',
      command: binaryPath('kube-controller-manager'),
      args: [
        `--kubeconfig=${await kubeconfigFor('controllerManager')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${files.saKey}`,
        `--root-ca-file=${files.ca}`,
        '--cluster-name=lab',
        // No node lifecycle controller: on a busy 2-core machine kwok's lease renewals come late,
        // the controller then marks every pod NotReady, and kwok (unlike a kubelet) never sets
        // them Ready again. The lab does not test node failure.
        '--controllers=*,-node-lifecycle-controller',
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--v=0',
      ],
      logDir: runDir,
    }),
    startProcess({
      name: 'kube-scheduler',
      command: binaryPath('kube-scheduler'),
      args: [
        `--kubeconfig=${await kubeconfigFor('scheduler')}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--v=0',
      ],
      logDir: runDir,
    }),
  );

  await writeFile(files.kwokConfig, await kwokStagesConfig());
  processes.push(
    startProcess({
      name: 'kwok',
      command: binaryPath('kwok'),
      args: [
        `--kubeconfig=${await kubeconfigFor('kwok')}`,
        `--config=${files.kwokConfig}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-ip=127.0.0.1',
        '--cidr=198.51.100.1/24',
        '--server-address=',
      ],
      logDir: runDir,
    }),
  );
  await admin.apply(fakeNode());
  await waitFor(
    `node ${LAB_NODE} Ready`,
    async () => {
      const node = await admin.get('v1', 'Node', LAB_NODE);
      const conditions = (node?.status?.conditions ?? []) as Array<{ type: string; status: string }>;
      return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
    },
    { timeoutMs: 60_000 },
  );
  // The API server taints every new node not-ready (admission TaintNodesByCondition); the node
  // lifecycle controller, which the lab leaves out, would lift it once the node is Ready.
  await admin.mergePatch('v1', 'Node', LAB_NODE, undefined, { spec: { taints: null } });

  return {
    server,
    caPem: certificates.caPem,
    identities,
    admin,
    kubeconfigFor,
    processes,
    gitVersion: version.gitVersion,
    async stop() {
      for (const process of [...processes].reverse()) await process.stop();
    },
  };
}

function fakeNode() {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: LAB_NODE,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': LAB_NODE,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        'topology.kubernetes.io/zone': 'eu-west-1a',
      },
    },
    spec: {},
    status: {
      allocatable: { cpu: '64', memory: '256Gi', pods: '500' },
      capacity: { cpu: '64', memory: '256Gi', pods: '500' },
    },
  };
}

/** Reads a YAML file of Kubernetes objects. */
export async function readManifests(path: string): Promise<Array<Record<string, unknown>>> {
  return (await readManifestTexts(path)).map((manifest) => manifest.object);
}

/**
 * The documents of a YAML file, each as its text and as parsed here. The parse is only trusted
 * for apiVersion, kind and metadata: apply the text (KubeClient.applyYaml) so that the API server's
 * parser reads the rest, as kubectl would have it.
 */
export async function readManifestTexts(
  path: string,
): Promise<Array<{ text: string; object: Record<string, unknown> }>> {
  const texts = (await readFile(path, 'utf8')).split(/^---[ \t]*$/m);
  return texts
    .map((text) => ({
      text,
      object: parseAllDocuments(text)[0]?.toJS({ maxAliasCount: -1 }) as Record<string, unknown> | null,
    }))
    .filter((manifest): manifest is { text: string; object: Record<string, unknown> } =>
      Boolean(manifest.object?.kind),
    );
}
