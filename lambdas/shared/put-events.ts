import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';

export interface PutEventsOptions {
  /** Rounds of re-sending the entries EventBridge rejected. */
  maxRounds?: number;
  baseDelayMs?: number;
}

/** Some entries were still rejected after every round: nothing was silently dropped. */
export class PutEventsError extends Error {
  constructor(readonly failed: Array<{ entry: PutEventsRequestEntry; result: PutEventsResultEntry }>) {
    super(
      `EventBridge rejected ${failed.length} event(s): ${failed
        .map(({ result }) => `${result.ErrorCode ?? 'unknown'}: ${result.ErrorMessage ?? ''}`)
        .join('; ')}`,
    );
    this.name = 'PutEventsError';
  }
}

/**
 * PutEvents answers 200 even when entries fail (FailedEntryCount): re-send exactly the failed
 * entries with backoff, and throw if any remain so the caller's retry and DLQ take over.
 */
export async function putEventsReliably(
  client: EventBridgeClient,
  entries: PutEventsRequestEntry[],
  { maxRounds = 3, baseDelayMs = 100 }: PutEventsOptions = {},
): Promise<void> {
  let pending = entries;
  for (let round = 1; ; round++) {
    const output = await client.send(new PutEventsCommand({ Entries: pending }));
    if (!output.FailedEntryCount) return;
    const failed = pending
      .map((entry, index) => ({ entry, result: output.Entries?.[index] ?? {} }))
      .filter(({ result }) => result.ErrorCode || !result.EventId);
    if (round >= maxRounds) throw new PutEventsError(failed);
    pending = failed.map(({ entry }) => entry);
    await sleep(baseDelayMs * 2 ** (round - 1));
  }
}
