import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { UsageError } from './usage-error.js';

/**
 * The kubeconfig as kubectl loads it (client-go's loading rules): `--kubeconfig` alone when given;
 * else every file of `$KUBECONFIG` in order (missing ones skipped, repeats read once), else
 * `~/.kube/config`. Merged as kubectl merges them: the first file that defines a cluster, user or
 * context of a given name wins (the whole entry), and `current-context` comes from the first file
 * that sets one. Each entry remembers its file, whose folder its relative paths are resolved
 * against.
 */

/** Fields the schemas keep so the CLI can refuse them by name instead of silently ignoring them. */
const KubeconfigCluster = z.object({
  server: z.string(),
  'certificate-authority-data': z.string().nullish(),
  'certificate-authority': z.string().nullish(),
  'insecure-skip-tls-verify': z.boolean().nullish(),
  'proxy-url': z.string().nullish(),
  'tls-server-name': z.string().nullish(),
});
export type KubeconfigCluster = z.infer<typeof KubeconfigCluster>;

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
  'auth-provider': z
    .object({ name: z.string(), config: z.record(z.string(), z.string()).nullish() })
    .nullish(),
  username: z.string().nullish(),
  password: z.string().nullish(),
  as: z.string().nullish(),
  'as-uid': z.string().nullish(),
  'as-groups': z.array(z.string()).nullish(),
  'as-user-extra': z.record(z.string(), z.unknown()).nullish(),
});
export type KubeconfigUser = z.infer<typeof KubeconfigUser>;

const KubeconfigContext = z.object({ cluster: z.string(), user: z.string().nullish() });
export type KubeconfigContext = z.infer<typeof KubeconfigContext>;

const KubeconfigFile = z.object({
  'current-context': z.string().nullish(),
  clusters: z.array(z.object({ name: z.string(), cluster: KubeconfigCluster.nullish() })).nullish(),
  users: z.array(z.object({ name: z.string(), user: KubeconfigUser.nullish() })).nullish(),
  contexts: z.array(z.object({ name: z.string(), context: KubeconfigContext.nullish() })).nullish(),
});

/** An entry and the file it came from. */
export interface FromFile<T> {
  readonly value: T;
  readonly file: string;
}

export interface MergedKubeconfig {
  /** The files read, in the order they were merged. */
  readonly files: readonly string[];
  readonly currentContext?: FromFile<string>;
  readonly clusters: ReadonlyMap<string, FromFile<KubeconfigCluster>>;
  readonly users: ReadonlyMap<string, FromFile<KubeconfigUser>>;
  readonly contexts: ReadonlyMap<string, FromFile<KubeconfigContext>>;
}

/** The files kubectl would read, in order: `--kubeconfig`, else `$KUBECONFIG`'s list, else ~/.kube/config. */
export function kubeconfigFiles(explicitPath: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (explicitPath) return [explicitPath];
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((entry) => entry.length > 0);
  return listed.length > 0 ? [...new Set(listed)] : [join(env.HOME || homedir(), '.kube', 'config')];
}

export async function loadKubeconfig(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<MergedKubeconfig> {
  const candidates = kubeconfigFiles(explicitPath, env);
  const files: string[] = [];
  let currentContext: FromFile<string> | undefined;
  const clusters = new Map<string, FromFile<KubeconfigCluster>>();
  const users = new Map<string, FromFile<KubeconfigUser>>();
  const contexts = new Map<string, FromFile<KubeconfigContext>>();

  for (const file of candidates) {
    const text = await readKubeconfig(file, explicitPath !== undefined);
    if (text === undefined) continue;
    files.push(file);
    const parsed = KubeconfigFile.safeParse(parse(text) ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(
        `kubeconfig ${file}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is not a kubeconfig'}`,
      );
    }
    const config = parsed.data;
    if (!currentContext && config['current-context']) {
      currentContext = { value: config['current-context'], file };
    }
    // The first file to name an entry keeps it: later files cannot replace or amend it.
    const keepFirst = <T>(into: Map<string, FromFile<T>>, entries: Array<{ name: string; value: T }>) => {
      for (const { name, value } of entries) {
        if (!into.has(name)) into.set(name, { value, file });
      }
    };
    keepFirst(
      clusters,
      (config.clusters ?? []).flatMap((entry) =>
        entry.cluster ? [{ name: entry.name, value: entry.cluster }] : [],
      ),
    );
    keepFirst(
      users,
      (config.users ?? []).map((entry) => ({ name: entry.name, value: entry.user ?? {} })),
    );
    keepFirst(
      contexts,
      (config.contexts ?? []).flatMap((entry) =>
        entry.context ? [{ name: entry.name, value: entry.context }] : [],
      ),
    );
  }
  if (files.length === 0) {
    throw new UsageError(
      `no kubeconfig: none of ${candidates.join(', ')} exists (pass --kubeconfig, set KUBECONFIG, or use --eks-auth)`,
    );
  }
  return { files, ...(currentContext ? { currentContext } : {}), clusters, users, contexts };
}

/** The file's text; `undefined` for a missing file of the `$KUBECONFIG` list, which kubectl skips. */
async function readKubeconfig(file: string, explicit: boolean): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read the kubeconfig ${file}: ${(error as Error).message}`);
  }
}
