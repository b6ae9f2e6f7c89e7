import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { type ReceivedMessage, SqsSimClosed } from './queue.js';
import type { SqsSim } from './server.js';

/**
 * Lambda's SQS event source mapping, driving a handler in-process: pollers long-poll the queue
 * (ReceiveMessage through the simulator, so receive counts, visibility and redrive apply as for
 * any consumer), gather a batch, invoke, and delete (DeleteMessageBatch) what succeeded:
 * - a thrown error leaves the whole batch; it reappears when its visibility timeout runs out;
 * - with ReportBatchItemFailures, the listed `itemIdentifier`s stay and the rest is deleted; a
 *   response naming an empty, missing or unknown identifier fails the whole batch, as Lambda does;
 *   an empty or absent response, or an empty `batchItemFailures`, is a complete success;
 * - at most `maximumConcurrency` invocations run at once (one poller per slot, so a received
 *   batch never waits for a slot while its visibility timeout runs); one batch is gathered at a
 *   time (one long poll outstanding while the queue is empty, each counted as a ReceiveMessage).
 * Not modeled: Lambda's gradual scaling of pollers (it starts with five and adds up to 300
 * concurrent invocations a minute), its back-off after function errors and throttles, and the
 * invocation payload limit (6 MB).
 */

export interface EventSourceOptions {
  sqs: SqsSim;
  queueUrl: string;
  /**
   * The function (`handler(event, context)` bound to a context): its answer is read as an
   * SQSBatchResponse when ReportBatchItemFailures is on, and checked as Lambda checks it.
   */
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | undefined> | Promise<unknown>;
  /** Records per invocation, 1–10,000 (more than 10 needs a batching window, as in Lambda). @default 10 */
  batchSize?: number;
  /**
   * How long a poller gathers records before invoking with fewer than `batchSize`
   * (Lambda's MaximumBatchingWindowInSeconds, here in ms; 0–300,000). @default 0
   */
  maximumBatchingWindowMs?: number;
  /** Invocations at once, 2–1,000 (ScalingConfig.MaximumConcurrency). @default 5 */
  maximumConcurrency?: number;
  /** FunctionResponseTypes: ['ReportBatchItemFailures']. @default true */
  reportBatchItemFailures?: boolean;
  /**
   * How long one poll waits for a first message before it answers empty and the poller asks
   * again (each poll is one ReceiveMessage request; Lambda long-polls 20 s). @default 20000
   */
  pollIntervalMs?: number;
  /** Sees every error the function throws (the mapping itself only retries). */
  onInvocationError?: (error: unknown, event: SQSEvent) => void;
  /** Sees a failed poll or delete (the poller pauses 100 ms and polls again). */
  onPollerError?: (error: unknown) => void;
}

export interface EventSourceStats {
  invocations: number;
  records: number;
  /** Batch size → how many invocations had it. */
  batchSizes: Record<number, number>;
  maxBatchSize: number;
  meanBatchSize: number;
  /** Message id → how many invocations carried it. */
  deliveries: Record<string, number>;
  peakConcurrency: number;
  /** Invocations that threw or answered an invalid batch response (whole batch left). */
  failedInvocations: number;
  /** Records left on the queue by a partial batch response. */
  failedRecords: number;
  deletedRecords: number;
}

export interface EventSource {
  /** Stops polling and resolves once the running invocations have finished. */
  stop(): Promise<void>;
  /**
   * Resolves when the queue holds no visible, delayed or in-flight message and no invocation
   * runs; rejects after `timeoutMs` (default: never) naming what is left.
   */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: EventSourceStats;
}

const MAX_RECEIVE = 10;

export function startEventSource(options: EventSourceOptions): EventSource {
  const { sqs, queueUrl, invoke } = options;
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.maximumBatchingWindowMs ?? 0;
  const maximumConcurrency = options.maximumConcurrency ?? 5;
  const reportBatchItemFailures = options.reportBatchItemFailures ?? true;
  const pollIntervalMs = options.pollIntervalMs ?? 20_000;
  check(
    Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10_000,
    'batchSize must be 1 to 10,000',
  );
  check(windowMs >= 0 && windowMs <= 300_000, 'maximumBatchingWindowMs must be 0 to 300,000');
  check(
    batchSize <= MAX_RECEIVE || windowMs >= 1000,
    'a batchSize above 10 needs maximumBatchingWindowMs of at least 1,000 (as Lambda requires)',
  );
  check(
    Number.isInteger(maximumConcurrency) && maximumConcurrency >= 2 && maximumConcurrency <= 1000,
    'maximumConcurrency must be 2 to 1,000',
  );
  check(pollIntervalMs > 0, 'pollIntervalMs must be positive');
  const queueArn = sqs.queueArn(queueUrl);

  const stopping = new AbortController();
  let running = 0;
  const counters = {
    invocations: 0,
    records: 0,
    batchSizes: {} as Record<number, number>,
    maxBatchSize: 0,
    deliveries: {} as Record<string, number>,
    peakConcurrency: 0,
    failedInvocations: 0,
    failedRecords: 0,
    deletedRecords: 0,
  };
  const settledListeners = new Set<() => void>();
  const settled = () => {
    for (const listener of [...settledListeners]) listener();
  };

  const receive = (max: number, waitTimeMs: number) =>
    sqs.receiveMessages(
      queueUrl,
      { maxNumberOfMessages: Math.min(MAX_RECEIVE, max), waitTimeMs, signal: stopping.signal },
      'event-source',
    );

  /** One poll, then more until the batch is full or the window closes. */
  const gather = async (): Promise<ReceivedMessage[]> => {
    const batch = await receive(batchSize, pollIntervalMs);
    if (batch.length === 0 || windowMs === 0) return batch;
    const closesAt = Date.now() + windowMs;
    while (batch.length < batchSize && !stopping.signal.aborted) {
      const left = closesAt - Date.now();
      if (left <= 0) break;
      batch.push(...(await receive(batchSize - batch.length, left)));
    }
    return batch;
  };

  const run = async (batch: ReceivedMessage[]) => {
    running++;
    counters.peakConcurrency = Math.max(counters.peakConcurrency, running);
    counters.invocations++;
    counters.records += batch.length;
    counters.batchSizes[batch.length] = (counters.batchSizes[batch.length] ?? 0) + 1;
    counters.maxBatchSize = Math.max(counters.maxBatchSize, batch.length);
    for (const message of batch) {
      counters.deliveries[message.messageId] = (counters.deliveries[message.messageId] ?? 0) + 1;
    }
    const event: SQSEvent = { Records: batch.map((message) => recordOf(message, queueArn, sqs.region)) };
    try {
      let failed: ReadonlySet<string> | 'all';
      try {
        const response = await invoke(structuredClone(event));
        failed = reportBatchItemFailures ? failuresIn(response, batch) : new Set();
      } catch (error) {
        options.onInvocationError?.(error, event);
        failed = 'all';
      }
      if (failed === 'all') {
        counters.failedInvocations++;
        return;
      }
      counters.failedRecords += failed.size;
      const succeeded = batch.filter((message) => !failed.has(message.messageId));
      if (succeeded.length > 0) {
        sqs.deleteMessages(
          queueUrl,
          succeeded.map((message) => message.receiptHandle),
          'event-source',
        );
        counters.deletedRecords += succeeded.length;
      }
    } finally {
      running--;
      settled();
    }
  };

  // The mapping fills one batch at a time (pollers feed one batcher); invocations then run side
  // by side. Without this, two pollers would split what one batching window should gather.
  let gathering: Promise<unknown> = Promise.resolve();
  const nextBatch = (): Promise<ReceivedMessage[]> => {
    const batch = gathering.then(gather);
    gathering = batch.catch(() => undefined);
    return batch;
  };

  const poller = async () => {
    while (!stopping.signal.aborted) {
      try {
        const batch = await nextBatch();
        if (batch.length > 0) await run(batch);
      } catch (error) {
        if (error instanceof SqsSimClosed) return;
        // A fault of the mapping itself (the queue is gone, a receive failed): the service
        // retries; so does the model, after a pause, rather than spinning.
        options.onPollerError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
      }
    }
  };
  const pollers = Array.from({ length: maximumConcurrency }, () => poller());

  const isIdle = () => {
    const counts = sqs.counts(queueUrl);
    return running === 0 && counts.visible + counts.delayed + counts.inFlight === 0;
  };

  return {
    async stop() {
      stopping.abort();
      await Promise.all(pollers);
    },
    async idle({ timeoutMs } = {}) {
      const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
      while (!isIdle()) {
        const now = Date.now();
        if (now >= deadline) {
          throw new Error(
            `the event source is not idle after ${timeoutMs} ms: ${running} invocations running, queue ${JSON.stringify(sqs.counts(queueUrl))}`,
          );
        }
        const wake = new AbortController();
        const invocationSettled = new Promise<void>((resolve) => {
          const listener = () => {
            settledListeners.delete(listener);
            resolve();
          };
          settledListeners.add(listener);
          wake.signal.addEventListener('abort', listener, { once: true });
        });
        await Promise.race([
          sqs.waitForChange(queueUrl, Math.min(deadline, now + 1000), wake.signal),
          invocationSettled,
        ]);
        wake.abort();
      }
    },
    get stats(): EventSourceStats {
      return {
        ...structuredClone(counters),
        meanBatchSize: counters.invocations === 0 ? 0 : counters.records / counters.invocations,
      };
    },
  };
}

/**
 * The failed message ids of a partial batch response, or 'all' when Lambda would treat the
 * response as a complete failure (not an object, batchItemFailures not a list, an identifier
 * that is empty, not a string, or not in the batch).
 */
export function failuresIn(
  response: unknown,
  batch: readonly ReceivedMessage[],
): ReadonlySet<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'all';
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const ids = new Set(batch.map((message) => message.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/** The record Lambda builds from a received message. */
export function recordOf(message: ReceivedMessage, eventSourceARN: string, awsRegion: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, attribute] of Object.entries(message.messageAttributes)) {
    messageAttributes[name] = {
      ...(attribute.StringValue === undefined ? {} : { stringValue: attribute.StringValue }),
      ...(attribute.BinaryValue === undefined ? {} : { binaryValue: attribute.BinaryValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: attribute.DataType,
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.approximateReceiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: message.senderId,
      ApproximateFirstReceiveTimestamp: String(message.approximateFirstReceiveTimestamp),
      ...(message.deadLetterQueueSourceArn
        ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn }
        : {}),
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`startEventSource: ${message}`);
}
