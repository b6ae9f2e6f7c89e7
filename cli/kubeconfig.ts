import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ClusterEndpoint } from '../lambdas/core/cluster/kube-client.js';
import { tryParseJson } from '../lambdas/core/try-parse-json.js';
import { UsageError } from './usage-error.js';

/**
 * The Kubernetes API of a kubeconfig context, as kubectl would reach it: the cluster's server and
 * CA, and the user's token, token file, exec plugin (`aws eks get-token`) or client certificate.
 */

const KubeconfigCluster = z.object({
  server: z.string(),
  'certificate-authority-data': z.string().nullish(),
  'certificate-authority': z.string().nullish(),
  'insecure-skip-tls-verify': z.boolean().nullish(),
});

const KubeconfigUser = z.object({
  token: z.string().nullish(),
  tokenFile: z.string().nullish(),
  'client-certificate-data': z.string().nullish(),
  'client-key-data': z.string().nullish(),
  'client-certificate': z.string().nullish(),
  'client-key': z.string().nullish(),
  exec: z
    .object({
      apiVersion: z.string().nullish(),
      command: z.string(),
      args: z.array(z.string()).nullish(),
      env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
    })
    .nullish(),
});
type KubeconfigUser = z.infer<typeof KubeconfigUser>;

const Kubeconfig = z.object({
  'current-context': z.string().nullish(),
  clusters: z.array(z.object({ name: z.string(), cluster: KubeconfigCluster })).nullish(),
  users: z.array(z.object({ name: z.string(), user: KubeconfigUser })).nullish(),
  contexts: z
    .array(
      z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string().nullish() }) }),
    )
    .nullish(),
});

const ExecCredential = z.object({
  status: z.object({ token: z.string().min(1), expirationTimestamp: z.string().nullish() }),
});

export interface KubeconfigOptions {
  /** `--kubeconfig`; default: the first file of $KUBECONFIG, else ~/.kube/config. */
  path?: string;
  /** `--context`; default: the kubeconfig's current-context. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Runs an exec credential plugin; replaceable in tests. */
  runPlugin?: (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string>;
}

const runWithExecFile = async (command: string, args: string[], env: NodeJS.ProcessEnv) =>
  (await promisify(execFile)(command, args, { env, timeout: 30_000, maxBuffer: 1024 * 1024 })).stdout;

export async function endpointFromKubeconfig(options: KubeconfigOptions = {}): Promise<ClusterEndpoint> {
  const env = options.env ?? process.env;
  const path = kubeconfigPath(options.path, env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the kubeconfig ${path}: ${(error as Error).message}`);
  }
  const parsed = Kubeconfig.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `kubeconfig ${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is not a kubeconfig'}`,
    );
  }
  const config = parsed.data;
  const contextName = options.context ?? config['current-context'] ?? undefined;
  if (!contextName) throw new UsageError(`kubeconfig ${path} has no current-context: pass --context`);
  const context = config.contexts?.find((entry) => entry.name === contextName)?.context;
  if (!context) throw new UsageError(`kubeconfig ${path} has no context "${contextName}"`);
  const cluster = config.clusters?.find((entry) => entry.name === context.cluster)?.cluster;
  if (!cluster)
    throw new UsageError(
      `kubeconfig ${path}: context "${contextName}" names a missing cluster "${context.cluster}"`,
    );
  const user: KubeconfigUser = config.users?.find((entry) => entry.name === context.user)?.user ?? {};
  const base = dirname(path);
  const relative = (file: string) => (isAbsolute(file) ? file : resolve(base, file));

  if (cluster['insecure-skip-tls-verify']) {
    throw new UsageError(
      `kubeconfig cluster "${context.cluster}" skips TLS verification: the verifier only talks to a server it can verify`,
    );
  }
  if (!cluster.server.startsWith('https://')) {
    throw new UsageError(
      `kubeconfig cluster "${context.cluster}": the server must be https, got ${cluster.server}`,
    );
  }
  const caPem = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
    : cluster['certificate-authority']
      ? await readFile(relative(cluster['certificate-authority']), 'utf8')
      : undefined;
  if (!caPem) {
    throw new UsageError(
      `kubeconfig cluster "${context.cluster}" has no certificate-authority(-data): the verifier does not trust the system CAs for a cluster`,
    );
  }

  const certPem = user['client-certificate-data']
    ? Buffer.from(user['client-certificate-data'], 'base64').toString('utf8')
    : user['client-certificate'] && (await readFile(relative(user['client-certificate']), 'utf8'));
  const keyPem = user['client-key-data']
    ? Buffer.from(user['client-key-data'], 'base64').toString('utf8')
    : user['client-key'] && (await readFile(relative(user['client-key']), 'utf8'));
  const clientCertificate = certPem && keyPem ? { certPem, keyPem } : undefined;

  return {
    server: cluster.server,
    caPem,
    clientCertificate,
    token: tokenSource(user, relative, env, options.runPlugin ?? runWithExecFile),
  };
}

function kubeconfigPath(path: string | undefined, env: NodeJS.ProcessEnv): string {
  if (path) return path;
  const first = env.KUBECONFIG?.split(delimiter).find((entry) => entry.length > 0);
  return first ?? join(homedir(), '.kube', 'config');
}

function tokenSource(
  user: KubeconfigUser,
  relative: (file: string) => string,
  env: NodeJS.ProcessEnv,
  runPlugin: NonNullable<KubeconfigOptions['runPlugin']>,
): () => Promise<string> {
  if (user.token) {
    const token = user.token;
    return async () => token;
  }
  if (user.tokenFile) {
    const file = relative(user.tokenFile);
    return async () => (await readFile(file, 'utf8')).trim();
  }
  const exec = user.exec;
  if (exec) {
    let cached: { token: string; expiresAtMs: number } | undefined;
    return async () => {
      if (cached && Date.now() < cached.expiresAtMs) return cached.token;
      const pluginEnv = {
        ...env,
        ...Object.fromEntries((exec.env ?? []).map(({ name, value }) => [name, value])),
        KUBERNETES_EXEC_INFO: JSON.stringify({
          apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1',
          kind: 'ExecCredential',
          spec: { interactive: false },
        }),
      };
      let output: string;
      try {
        output = await runPlugin(exec.command, exec.args ?? [], pluginEnv);
      } catch (error) {
        throw new UsageError(
          `the kubeconfig's credential plugin "${exec.command}" failed: ${(error as Error).message}`,
        );
      }
      const credential = ExecCredential.safeParse(tryParseJson(output));
      if (!credential.success) {
        throw new UsageError(
          `the kubeconfig's credential plugin "${exec.command}" printed no ExecCredential with a token`,
        );
      }
      const expires = Date.parse(credential.data.status.expirationTimestamp ?? '');
      // A minute's margin, like client-go; without an expiry, ask again each time.
      cached = {
        token: credential.data.status.token,
        expiresAtMs: Number.isFinite(expires) ? expires - 60_000 : 0,
      };
      return cached.token;
    };
  }
  // Certificate-only users send no bearer token.
  return async () => '';
}
