import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  paginateQuery,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import {
  HISTORY_PARTITION_KEY,
  HISTORY_SORT_KEY,
  HISTORY_TTL_ATTRIBUTE,
  type HistoryRolloutKey,
  historyPartitionOf,
  historyRevisionPrefix,
  historySortKeyOf,
  historyStepPrefix,
  NO_CLUSTER,
  WATCH_PARTITION,
} from '../../../contract/history-table.js';
import { VerdictEventDetail } from '../contracts/verdict-event.js';

/** Who decided a verdict: the verify function (rollout events), the analysis gate (on demand), the drift sentinel. */
export const VERDICT_SOURCES = ['verify', 'gate', 'sentinel'] as const;
export type VerdictSource = (typeof VERDICT_SOURCES)[number];

/** One kept verdict, with its evidence (the whole verdict as it was published or answered). */
export const HistoryEntry = z.object({
  source: z.enum(VERDICT_SOURCES),
  recordedAt: z.iso.datetime(),
  verdict: VerdictEventDetail,
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/**
 * A rollout on the watch list: where it is, its last verdict, and whether Argo still moves it
 * (`progressing`) or it completed or aborted (`settled`, since `settledAt`). `gone`: the Rollout
 * was not found any more.
 */
export const WatchedRollout = z.object({
  cluster: z.string().optional(),
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  revision: z.number(),
  /** Absent on an item only live verdicts (gate, sentinel) wrote: progressing until told otherwise. */
  state: z.enum(['progressing', 'settled', 'gone']).default('progressing'),
  settledAt: z.string().optional(),
  lastVerdict: z.enum(['Succeeded', 'Failed', 'Inconclusive']),
  lastVerifiedAt: z.string(),
});
export type WatchedRollout = z.infer<typeof WatchedRollout>;

/** The most verdicts one timeline request returns (the newest are kept when there are more). */
export const MAX_TIMELINE_ENTRIES = 1000;

export interface VerdictHistoryOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long a verdict is kept (DynamoDB TTL); 0 keeps it forever. */
  retentionSeconds: number;
  now?: () => Date;
}

/**
 * The verdict history table (contract/history-table.ts): every verdict of every rollout, queryable by
 * cluster, namespace and name, by revision and by step.
 */
export class VerdictHistory {
  private readonly now: () => Date;

  constructor(private readonly options: VerdictHistoryOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Keeps one verdict. The key is the verdict's own (revision, step, decision time, id), so a
   * redelivery writes nothing twice: an existing item is left as it is.
   * @returns false when the verdict was already kept
   */
  async record(verdict: VerdictEventDetail, source: VerdictSource): Promise<boolean> {
    const recordedAt = this.now();
    const entry: HistoryEntry = { source, recordedAt: recordedAt.toISOString(), verdict };
    const item = {
      [HISTORY_PARTITION_KEY]: historyPartitionOf({ ...verdict.rollout, cluster: verdict.cluster }),
      [HISTORY_SORT_KEY]: historySortKeyOf(
        verdict.rollout.revision,
        verdict.step.index,
        verdict.decidedAt,
        verdict.verdictId,
      ),
      // Plain attributes for a reader with the console; the entry itself is the JSON document.
      uid: verdict.rollout.uid,
      revision: verdict.rollout.revision,
      stepIndex: verdict.step.index,
      outcome: verdict.verdict,
      source,
      document: JSON.stringify(entry),
      ...(this.options.retentionSeconds > 0
        ? {
            [HISTORY_TTL_ATTRIBUTE]: Math.floor(recordedAt.getTime() / 1000) + this.options.retentionSeconds,
          }
        : {}),
    };
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: marshall(item),
          ConditionExpression: 'attribute_not_exists(#entry)',
          ExpressionAttributeNames: { '#entry': HISTORY_SORT_KEY },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.watch(verdict, recordedAt);
    return true;
  }

  /**
   * The rollout's watch-list item follows its newest verdict (an older one, delivered late, changes
   * nothing): a completed or aborted rollout is settled from then on; a verdict on a notification of
   * a step makes it progressing again; a live verdict (gate, sentinel) leaves the state as it is.
   */
  private async watch(verdict: VerdictEventDetail, recordedAt: Date): Promise<void> {
    const settles = verdict.trigger === 'on-rollout-completed' || verdict.trigger === 'on-rollout-aborted';
    const moves = verdict.trigger !== undefined && verdict.trigger !== 'live' && !settles;
    const sets = [
      '#cluster = :cluster',
      '#namespace = :namespace',
      '#name = :name',
      '#uid = :uid',
      '#revision = :revision',
      '#lastVerdict = :lastVerdict',
      '#lastVerifiedAt = :lastVerifiedAt',
      ...(settles ? ['#state = :settled', '#settledAt = :lastVerifiedAt'] : []),
      ...(moves ? ['#state = :progressing'] : []),
      ...(this.options.retentionSeconds > 0 ? ['#expiresAt = :expiresAt'] : []),
    ];
    const names: Record<string, string> = {
      '#cluster': 'cluster',
      '#namespace': 'namespace',
      '#name': 'name',
      '#uid': 'uid',
      '#revision': 'revision',
      '#lastVerdict': 'lastVerdict',
      '#lastVerifiedAt': 'lastVerifiedAt',
      ...(settles || moves ? { '#state': 'state' } : {}),
      ...(settles ? { '#settledAt': 'settledAt' } : {}),
      ...(this.options.retentionSeconds > 0 ? { '#expiresAt': HISTORY_TTL_ATTRIBUTE } : {}),
    };
    const values = {
      ':cluster': verdict.cluster ?? NO_CLUSTER,
      ':namespace': verdict.rollout.namespace,
      ':name': verdict.rollout.name,
      ':uid': verdict.rollout.uid,
      ':revision': verdict.rollout.revision,
      ':lastVerdict': verdict.verdict,
      ':lastVerifiedAt': verdict.decidedAt,
      ...(settles ? { ':settled': 'settled' } : {}),
      ...(moves ? { ':progressing': 'progressing' } : {}),
      ...(this.options.retentionSeconds > 0
        ? { ':expiresAt': Math.floor(recordedAt.getTime() / 1000) + this.options.retentionSeconds }
        : {}),
    };
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: marshall({
            [HISTORY_PARTITION_KEY]: WATCH_PARTITION,
            [HISTORY_SORT_KEY]: historyPartitionOf({ ...verdict.rollout, cluster: verdict.cluster }),
          }),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#lastVerifiedAt) OR #lastVerifiedAt <= :lastVerifiedAt',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Marks a watched rollout gone (not found in its cluster): the sentinel stops looking at it. */
  async forget(rollout: WatchedRollout): Promise<void> {
    await this.options.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: marshall({
          [HISTORY_PARTITION_KEY]: WATCH_PARTITION,
          [HISTORY_SORT_KEY]: historyPartitionOf({
            ...rollout,
            cluster: rollout.cluster === NO_CLUSTER ? undefined : rollout.cluster,
          }),
        }),
        UpdateExpression: 'SET #state = :gone',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: marshall({ ':gone': 'gone' }),
      }),
    );
  }

  /** Every rollout on the watch list (one partition, paged). */
  async watched(): Promise<WatchedRollout[]> {
    const rollouts: WatchedRollout[] = [];
    const input: QueryCommandInput = {
      TableName: this.options.tableName,
      KeyConditionExpression: '#rollout = :watch',
      ExpressionAttributeNames: { '#rollout': HISTORY_PARTITION_KEY },
      ExpressionAttributeValues: marshall({ ':watch': WATCH_PARTITION }),
    };
    for await (const page of paginateQuery({ client: this.options.client, pageSize: 100 }, input)) {
      for (const item of page.Items ?? []) {
        const parsed = WatchedRollout.safeParse(unmarshall(item));
        if (parsed.success) rollouts.push(parsed.data);
      }
    }
    return rollouts;
  }

  /** A rollout's verdicts, oldest first: all of them, or one revision's (the newest `limit` when there are more). */
  async timeline(
    rollout: HistoryRolloutKey,
    filter: { revision?: number; limit?: number } = {},
  ): Promise<HistoryEntry[]> {
    const prefix = filter.revision === undefined ? undefined : historyRevisionPrefix(filter.revision);
    const limit = Math.min(filter.limit ?? MAX_TIMELINE_ENTRIES, MAX_TIMELINE_ENTRIES);
    const entries = await this.query(rollout, prefix, { newestFirst: true, limit });
    return entries.sort((a, b) => a.verdict.decidedAt.localeCompare(b.verdict.decidedAt));
  }

  /** The verdicts of one revision (of one step, when given), newest first, at most `limit`. */
  async recent(
    rollout: HistoryRolloutKey,
    where: { revision: number; stepIndex?: number },
    limit = 50,
  ): Promise<HistoryEntry[]> {
    const prefix =
      where.stepIndex === undefined
        ? historyRevisionPrefix(where.revision)
        : historyStepPrefix(where.revision, where.stepIndex);
    const entries = await this.query(rollout, prefix, { newestFirst: true, limit });
    return entries.sort((a, b) => b.verdict.decidedAt.localeCompare(a.verdict.decidedAt));
  }

  private async query(
    rollout: HistoryRolloutKey,
    prefix: string | undefined,
    { newestFirst, limit }: { newestFirst: boolean; limit: number },
  ): Promise<HistoryEntry[]> {
    const input: QueryCommandInput = {
      TableName: this.options.tableName,
      KeyConditionExpression:
        prefix === undefined ? '#rollout = :rollout' : '#rollout = :rollout AND begins_with(#entry, :prefix)',
      ExpressionAttributeNames: {
        '#rollout': HISTORY_PARTITION_KEY,
        ...(prefix === undefined ? {} : { '#entry': HISTORY_SORT_KEY }),
      },
      ExpressionAttributeValues: marshall({
        ':rollout': historyPartitionOf(rollout),
        ...(prefix === undefined ? {} : { ':prefix': prefix }),
      }),
      ProjectionExpression: '#document',
      ScanIndexForward: !newestFirst,
    };
    (input.ExpressionAttributeNames as Record<string, string>)['#document'] = 'document';
    const entries: HistoryEntry[] = [];
    for await (const page of paginateQuery(
      { client: this.options.client, pageSize: Math.min(limit, 100) },
      input,
    )) {
      for (const item of page.Items ?? []) {
        entries.push(parseEntry(unmarshall(item).document));
        if (entries.length >= limit) return entries;
      }
    }
    return entries;
  }
}

/** A stored document that is not an entry is reported, never passed on as one. */
function parseEntry(document: unknown): HistoryEntry {
  if (typeof document !== 'string') throw new Error('history item without its document');
  const parsed = HistoryEntry.safeParse(JSON.parse(document));
  if (!parsed.success)
    throw new Error(`history item is not a verdict entry: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
