import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { ClusterName } from '../lambdas/core/contracts/cluster-name.js';
import { KubernetesName, KubernetesNamespace } from '../lambdas/core/contracts/rollout-event.js';
import { HistoryEntry, VerdictHistory } from '../lambdas/core/history/verdict-history.js';
import type { CliIo } from './program.js';
import { issuesText, UsageError } from './usage-error.js';

export interface HistoryOptions {
  revision?: string;
  json?: boolean;
  cluster?: string;
  table?: string;
  url?: string;
  tokenFile?: string;
  region?: string;
  endpointUrl?: string;
}

const RolloutArgument = z
  .string()
  .transform((text, context) => {
    const [namespace, name, ...rest] = text.split('/');
    if (rest.length > 0 || namespace === undefined || name === undefined) {
      context.addIssue({ code: 'custom', message: 'must be <namespace>/<name>' });
      return z.NEVER;
    }
    return { namespace, name };
  })
  .pipe(z.object({ namespace: KubernetesNamespace, name: KubernetesName }));

const Revision = z.coerce.number('must be a whole number').int('must be a whole number').nonnegative();

/** The gate's `/history` answer: the same entries the table holds. */
const HistoryAnswer = z.object({ entries: z.array(HistoryEntry) });

/**
 * `rollout-verifier history ns/name`: a rollout's verdicts, oldest first, from the verdict history
 * table (`--table`, with your AWS credentials) or through the analysis gate's authenticated
 * endpoint (`--url` and the cluster's token).
 */
export async function historyCommand(
  rolloutText: string,
  options: HistoryOptions,
  io: CliIo,
): Promise<number> {
  const rollout = RolloutArgument.safeParse(rolloutText);
  if (!rollout.success) throw new UsageError(`rollout "${rolloutText}": ${issuesText(rollout.error.issues)}`);
  const revision = options.revision === undefined ? undefined : Revision.safeParse(options.revision);
  if (revision && !revision.success) throw new UsageError(`--revision: ${issuesText(revision.error.issues)}`);
  const cluster = options.cluster === undefined ? undefined : ClusterName.safeParse(options.cluster);
  if (cluster && !cluster.success) throw new UsageError(`--cluster: ${issuesText(cluster.error.issues)}`);
  if ((options.table === undefined) === (options.url === undefined)) {
    throw new UsageError('name where the history is: --table <DynamoDB table> or --url <analysis gate URL>');
  }
  const key = { ...rollout.data, cluster: cluster?.data };
  const filter = revision?.data === undefined ? {} : { revision: revision.data };

  const entries =
    options.table !== undefined
      ? await new VerdictHistory({
          client: new DynamoDBClient({
            ...(options.region ? { region: options.region } : {}),
            ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
          }),
          tableName: options.table,
          retentionSeconds: 0,
        }).timeline(key, filter)
      : await fromGate(options.url as string, options.tokenFile, key, filter);

  if (options.json) {
    io.stdout.write(`${JSON.stringify({ rollout: `${key.namespace}/${key.name}`, entries }, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`${renderTimeline(`${key.namespace}/${key.name}`, entries)}\n`);
  return 0;
}

async function fromGate(
  url: string,
  tokenFile: string | undefined,
  key: { namespace: string; name: string; cluster?: string | undefined },
  filter: { revision?: number },
): Promise<HistoryEntry[]> {
  const bearer = (
    tokenFile ? await readFile(tokenFile, 'utf8') : (process.env.ROLLOUT_VERIFIER_TOKEN ?? '')
  ).trim();
  if (!bearer)
    throw new UsageError('--url needs the cluster token: --token-file <file> or ROLLOUT_VERIFIER_TOKEN');
  let target: URL;
  try {
    target = new URL('history', url.endsWith('/') ? url : `${url}/`);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL`);
  }
  target.searchParams.set('namespace', key.namespace);
  target.searchParams.set('name', key.name);
  if (key.cluster) target.searchParams.set('cluster', key.cluster);
  if (filter.revision !== undefined) target.searchParams.set('revision', String(filter.revision));
  const response = await fetch(target, { headers: { authorization: `Bearer ${bearer}` } });
  const body = await response.text();
  if (!response.ok) throw new Error(`the analysis gate answered ${response.status}: ${body.slice(0, 300)}`);
  const parsed = HistoryAnswer.safeParse(JSON.parse(body));
  if (!parsed.success)
    throw new Error(`the analysis gate's answer is not a history: ${issuesText(parsed.error.issues)}`);
  return parsed.data.entries;
}

/** One line per verdict: when, revision and step, verdict, expected split, who decided, finding codes. */
export function renderTimeline(rollout: string, entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return `no verdicts kept for ${rollout}`;
  const lines = entries.map(({ verdict, source }) => {
    const codes = [...new Set(verdict.findings.map((finding) => finding.code))];
    const split = `canary ${verdict.expected.canaryWeight} / stable ${verdict.expected.stableWeight}`;
    return [
      verdict.decidedAt,
      `rev ${verdict.rollout.revision}`,
      `step ${verdict.step.index}`,
      verdict.verdict.padEnd(12),
      split.padEnd(22),
      `[${source}${verdict.trigger ? ` ${verdict.trigger}` : ''}]`,
      codes.join(', '),
    ]
      .join('  ')
      .trimEnd();
  });
  return [`${rollout}: ${entries.length} verdict(s), oldest first`, ...lines].join('\n');
}
