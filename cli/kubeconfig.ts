import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { ClusterEndpoint } from '../lambdas/core/cluster/kube-client.js';
import { tryParseJson } from '../lambdas/core/try-parse-json.js';
import { type KubeconfigCluster, type KubeconfigUser, loadKubeconfig } from './kubeconfig-files.js';
import { UsageError } from './usage-error.js';

/**
 * The Kubernetes API of a kubeconfig context, as kubectl would reach it: the cluster's server and
 * CA, and the user's token, token file, OIDC id-token, exec plugin (`aws eks get-token`) or client
 * certificate. What the CLI cannot do as kubectl would (a proxy, another TLS server name, basic
 * authentication, impersonation) is refused naming the field, never ignored.
 */

const ExecCredential = z.object({
  status: z.object({ token: z.string().min(1), expirationTimestamp: z.string().nullish() }),
});

export interface KubeconfigOptions {
  /** `--kubeconfig`; default: every file of $KUBECONFIG, merged as kubectl merges them, else ~/.kube/config. */
  path?: string;
  /** `--context`; default: the current-context of the first file that sets one. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Runs an exec credential plugin; replaceable in tests. */
  runPlugin?: (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string>;
  /** For OIDC id-token expiry; replaceable in tests. */
  now?: () => number;
}

const runWithExecFile = async (command: string, args: string[], env: NodeJS.ProcessEnv) =>
  (await promisify(execFile)(command, args, { env, timeout: 30_000, maxBuffer: 1024 * 1024 })).stdout;

export async function endpointFromKubeconfig(options: KubeconfigOptions = {}): Promise<ClusterEndpoint> {
  const env = options.env ?? process.env;
  const config = await loadKubeconfig(options.path, env);
  const where = config.files.join(', ');
  const contextName = options.context ?? config.currentContext?.value;
  if (!contextName) throw new UsageError(`kubeconfig ${where} has no current-context: pass --context`);
  const context = config.contexts.get(contextName)?.value;
  if (!context) throw new UsageError(`kubeconfig ${where} has no context "${contextName}"`);
  const clusterEntry = config.clusters.get(context.cluster);
  if (!clusterEntry) {
    throw new UsageError(
      `kubeconfig ${where}: context "${contextName}" names a missing cluster "${context.cluster}"`,
    );
  }
  const cluster = clusterEntry.value;
  const userEntry = context.user ? config.users.get(context.user) : undefined;
  const user: KubeconfigUser = userEntry?.value ?? {};
  // Relative paths are relative to the file that holds the entry, as kubectl resolves them.
  const relativeTo = (file: string) => (path: string) =>
    isAbsolute(path) ? path : resolve(dirname(file), path);
  const clusterPath = relativeTo(clusterEntry.file);
  const userPath = relativeTo(userEntry?.file ?? clusterEntry.file);

  refuseUnsupportedCluster(context.cluster, cluster);
  refuseUnsupportedUser(context.user ?? '', user);
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
      ? await readFile(clusterPath(cluster['certificate-authority']), 'utf8')
      : undefined;
  if (!caPem) {
    throw new UsageError(
      `kubeconfig cluster "${context.cluster}" has no certificate-authority(-data): the verifier does not trust the system CAs for a cluster`,
    );
  }

  const certPem = user['client-certificate-data']
    ? Buffer.from(user['client-certificate-data'], 'base64').toString('utf8')
    : user['client-certificate'] && (await readFile(userPath(user['client-certificate']), 'utf8'));
  const keyPem = user['client-key-data']
    ? Buffer.from(user['client-key-data'], 'base64').toString('utf8')
    : user['client-key'] && (await readFile(userPath(user['client-key']), 'utf8'));
  const clientCertificate = certPem && keyPem ? { certPem, keyPem } : undefined;

  return {
    server: cluster.server,
    caPem,
    clientCertificate,
    token: tokenSource(context.user ?? '', user, userPath, env, {
      runPlugin: options.runPlugin ?? runWithExecFile,
      now: options.now ?? Date.now,
    }),
  };
}

function refuseUnsupportedCluster(name: string, cluster: KubeconfigCluster): void {
  if (cluster['proxy-url']) {
    throw new UsageError(
      `kubeconfig cluster "${name}" sets proxy-url: not supported, the CLI connects to the API server directly. ` +
        'Run it where the server is reachable without the proxy, or use --eks-auth',
    );
  }
  if (cluster['tls-server-name']) {
    throw new UsageError(
      `kubeconfig cluster "${name}" sets tls-server-name: not supported, the CLI checks the server's certificate ` +
        `against the host of its server URL (${cluster.server})`,
    );
  }
}

function refuseUnsupportedUser(name: string, user: KubeconfigUser): void {
  const provider = user['auth-provider']?.name;
  if (provider !== undefined && provider !== 'oidc') {
    throw new UsageError(
      `kubeconfig user "${name}" uses auth-provider "${provider}": not supported (kubectl dropped it in 1.26); ` +
        'use its exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin)',
    );
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw new UsageError(
      `kubeconfig user "${name}" sets username/password: basic authentication is not supported, use a token, an exec plugin or a client certificate`,
    );
  }
  const impersonation = (['as', 'as-uid', 'as-groups', 'as-user-extra'] as const).filter(
    (field) => user[field] !== undefined && user[field] !== null,
  );
  if (impersonation.length > 0) {
    throw new UsageError(
      `kubeconfig user "${name}" sets ${impersonation.join(', ')}: impersonation is not supported, the CLI acts as the user itself`,
    );
  }
}

function tokenSource(
  name: string,
  user: KubeconfigUser,
  relative: (file: string) => string,
  env: NodeJS.ProcessEnv,
  { runPlugin, now }: { runPlugin: NonNullable<KubeconfigOptions['runPlugin']>; now: () => number },
): () => Promise<string> {
  if (user.token) {
    const token = user.token;
    return async () => token;
  }
  if (user.tokenFile) {
    const file = relative(user.tokenFile);
    return async () => (await readFile(file, 'utf8')).trim();
  }
  const oidc = user['auth-provider'];
  if (oidc) {
    return async () => oidcIdToken(name, oidc.config ?? {}, now());
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

/**
 * kubectl's `auth-provider: oidc` sends `config.id-token` and, once it has expired, fetches a new
 * one from `idp-issuer-url` with the refresh token and writes it back to the kubeconfig. The CLI
 * sends a valid id-token the same way but does not refresh it: an expired one is refused, saying
 * how to get a fresh one.
 */
function oidcIdToken(name: string, config: Record<string, string>, nowMs: number): string {
  const idToken = config['id-token'];
  if (!idToken) {
    throw new UsageError(
      `kubeconfig user "${name}": auth-provider oidc has no config.id-token; run a kubectl command once so it fetches one`,
    );
  }
  const expiresAtMs = jwtExpiry(idToken);
  if (expiresAtMs === undefined) {
    throw new UsageError(
      `kubeconfig user "${name}": auth-provider oidc's config.id-token is not a JWT with an exp`,
    );
  }
  // The same ten seconds of leeway client-go allows before it refreshes.
  if (expiresAtMs - 10_000 <= nowMs) {
    throw new UsageError(
      `kubeconfig user "${name}": the auth-provider oidc id-token expired at ${new Date(expiresAtMs).toISOString()}; ` +
        'the CLI does not refresh OIDC tokens: run a kubectl command once (it refreshes and saves the token) and retry',
    );
  }
  return idToken;
}

function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  const claims = tryParseJson(Buffer.from(payload, 'base64url').toString('utf8'));
  const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
