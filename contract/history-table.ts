/**
 * The verdict history table's layout: the one place the runtime (lambdas/core/history, which writes
 * and queries it), the CLI (`rollout-verifier history`) and the infrastructure (lib/history.ts,
 * which creates it) take its key names from. Dependency-free, like state-table.ts.
 *
 * One item per verdict. Partition: the rollout by cluster, namespace and name, so a timeline is one
 * Query. Sort: revision, then step, then the decision time (zero-padded: strings sort as numbers),
 * then the verdict id, so a revision or a step is a `begins_with` and two verdicts never collide.
 * The rollout's uid is an attribute: a Rollout deleted and re-created under the same name keeps one
 * timeline, each verdict telling which object it was about.
 */
export const HISTORY_PARTITION_KEY = 'rollout';
export const HISTORY_SORT_KEY = 'entry';
/** Item expiry (epoch seconds): DynamoDB TTL deletes verdicts older than the retention. */
export const HISTORY_TTL_ATTRIBUTE = 'expiresAt';

/** Stands for the cluster of a stack that names none (its events carry no cluster). */
export const NO_CLUSTER = '-';

export interface HistoryRolloutKey {
  readonly cluster?: string | undefined;
  readonly namespace: string;
  readonly name: string;
}

/** `<cluster>/<namespace>/<name>`: Kubernetes names and cluster names hold no `/`. */
export function historyPartitionOf(rollout: HistoryRolloutKey): string {
  return `${rollout.cluster ?? NO_CLUSTER}/${rollout.namespace}/${rollout.name}`;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** The sort key prefix of one revision: `r0000000007#`. */
export function historyRevisionPrefix(revision: number): string {
  return `r${pad(revision, 10)}#`;
}

/** The sort key prefix of one step of one revision: `r0000000007#s00003#`. */
export function historyStepPrefix(revision: number, stepIndex: number): string {
  return `${historyRevisionPrefix(revision)}s${pad(stepIndex, 5)}#`;
}

/** The whole sort key: `r0000000007#s00003#2026-12-07T03:00:00.000Z#<verdictId>`. */
export function historySortKeyOf(
  revision: number,
  stepIndex: number,
  decidedAt: string,
  verdictId: string,
): string {
  return `${historyStepPrefix(revision, stepIndex)}${decidedAt}#${verdictId}`;
}

/**
 * The watch list, in the same table: one item per rollout under this partition (sort key: the
 * rollout's partition key), updated with every verdict, read by the drift sentinel with one Query.
 */
export const WATCH_PARTITION = '#watch';
