import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventBridgeSim } from '../../sim/eventbridge/index.js';
import {
  type EventSourceOptions,
  md5OfMessageAttributes,
  type SqsSim,
  SqsSimClosed,
  sqsTarget,
  startEventSource,
  startSqsSim,
} from '../../sim/sqs/index.js';

const SIGNING = { accessKeyId: 'AKIDSQSSIMTEST', secretAccessKey: 'sqs-sim-secret' };
const MAX_BODY = 262_144;

let sqs: SqsSim;
let client: SQSClient;
let queueCounter = 0;

beforeAll(async () => {
  sqs = await startSqsSim({ credentials: { [SIGNING.accessKeyId]: SIGNING.secretAccessKey } });
  client = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'eu-west-1',
    credentials: SIGNING,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await sqs.close();
});

/** A fresh queue per test (names never repeat), created over the API. */
async function createQueue(attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: `looks-${++queueCounter}`, Attributes: attributes }),
  );
  return QueueUrl as string;
}

/** The SDK's error of a request that must fail, or a failed test if it succeeds. */
async function failure(sending: Promise<unknown>): Promise<SQSServiceException> {
  const error = await sending.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SQSServiceException);
  return error as SQSServiceException;
}

async function queueCounts(QueueUrl: string) {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('the SQS simulator through the real @aws-sdk/client-sqs (AWS JSON 1.0, SigV4)', () => {
  it('sends, receives with system and message attributes, and deletes', async () => {
    const QueueUrl = await createQueue();
    expect((await client.send(new GetQueueUrlCommand({ QueueName: `looks-${queueCounter}` }))).QueueUrl).toBe(
      QueueUrl,
    );
    const attributes = {
      rollout: { DataType: 'String', StringValue: 'shop/checkout' },
      step: { DataType: 'Number', StringValue: '2' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2]) },
    };
    // The SDK checks MD5OfMessageBody itself; the attributes' digest is compared with the value
    // moto 5.2.1's independent implementation gives for the same attributes.
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl, MessageBody: '{"look":1}', MessageAttributes: attributes }),
    );
    expect(sent.MD5OfMessageAttributes).toBe('ce011a1db69b8bcd49122c40fa2354f1');
    expect(await queueCounts(QueueUrl)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });

    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages).toHaveLength(1);
    const [message] = Messages;
    expect(message?.MessageId).toBe(sent.MessageId);
    expect(message?.Body).toBe('{"look":1}');
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(Number(message?.Attributes?.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(message?.Attributes?.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(message?.Attributes?.SentTimestamp),
    );
    expect(message?.MessageAttributes?.rollout?.StringValue).toBe('shop/checkout');
    expect([...(message?.MessageAttributes?.blob?.BinaryValue ?? [])]).toEqual([0, 1, 2]);
    expect(message?.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({
        rollout: { DataType: 'String', StringValue: 'shop/checkout' },
        step: { DataType: 'Number', StringValue: '2' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]).toString('base64') },
      }),
    );
    expect(await queueCounts(QueueUrl)).toEqual({ visible: 0, delayed: 0, inFlight: 1 });

    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));
    expect(sqs.messages(QueueUrl)).toEqual([]);
    expect(await queueCounts(QueueUrl)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('answers an empty receive without Messages, and a long poll as soon as a message arrives', async () => {
    const QueueUrl = await createQueue();
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toBeUndefined();
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'late' }));
    const { Messages = [] } = await polling;
    expect(Messages.map((message) => message.Body)).toEqual(['late']);
  });

  it('delivers a delayed message no earlier than its DelaySeconds, per message and per queue', async () => {
    const QueueUrl = await createQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 1 }));
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toBeUndefined();
    expect(await queueCounts(QueueUrl)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }),
    );
    const attributes = Messages[0]?.Attributes ?? {};
    expect(Messages[0]?.Body).toBe('later');
    expect(
      Number(attributes.ApproximateFirstReceiveTimestamp) - Number(attributes.SentTimestamp),
    ).toBeGreaterThanOrEqual(1000);

    const delayedQueue = await createQueue({ DelaySeconds: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: delayedQueue, MessageBody: 'queue default' }));
    await client.send(
      new SendMessageCommand({ QueueUrl: delayedQueue, MessageBody: 'now', DelaySeconds: 0 }),
    );
    expect(await queueCounts(delayedQueue)).toEqual({ visible: 1, delayed: 1, inFlight: 0 });
  });

  it('hides a received message for its visibility timeout and redrives it after maxReceiveCount', async () => {
    const deadLetterUrl = await createQueue();
    const QueueUrl = await createQueue({
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn(deadLetterUrl), maxReceiveCount: 2 }),
    });
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
    const receive = (WaitTimeSeconds = 0) =>
      client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          WaitTimeSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );

    const first = (await receive()).Messages?.[0];
    expect(first?.Attributes).toEqual({ ApproximateReceiveCount: '1' });
    expect((await receive()).Messages).toBeUndefined();
    // The visibility timeout (1 s) runs out by itself…
    const second = (await receive(5)).Messages?.[0];
    expect(second?.MessageId).toBe(MessageId);
    expect(second?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    expect(second?.ReceiptHandle).not.toBe(first?.ReceiptHandle);
    // …a stale receipt handle deletes nothing, and the message is not in flight for it.
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first?.ReceiptHandle }));
    expect(sqs.messages(QueueUrl).map((message) => message.state)).toEqual(['in-flight']);
    expect(
      (
        await failure(
          client.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl,
              ReceiptHandle: first?.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          ),
        )
      ).name,
    ).toBe('MessageNotInflight');
    // Received maxReceiveCount (2) times: the next receive moves it to the dead-letter queue.
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: second?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect((await receive()).Messages).toBeUndefined();
    expect(sqs.messages(QueueUrl)).toEqual([]);
    expect(sqs.deadLetters(QueueUrl)).toMatchObject([
      {
        messageId: MessageId,
        body: 'poison',
        state: 'visible',
        deadLetterQueueSourceArn: sqs.queueArn(QueueUrl),
      },
    ]);
    const dead = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterUrl,
        MessageSystemAttributeNames: ['DeadLetterQueueSourceArn'],
      }),
    );
    expect(dead.Messages?.[0]?.Attributes).toEqual({ DeadLetterQueueSourceArn: sqs.queueArn(QueueUrl) });
  });

  it('answers batches entry by entry, and refuses malformed batches as a whole', async () => {
    const QueueUrl = await createQueue();
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two', DelaySeconds: 901 },
          { Id: 'c', MessageBody: 'three' },
        ],
      }),
    );
    expect(sent.Successful?.map((entry) => entry.Id)).toEqual(['a', 'c']);
    expect(sent.Failed).toEqual([
      expect.objectContaining({ Id: 'b', Code: 'InvalidParameterValue', SenderFault: true }),
    ]);
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((message) => message.Body)).toEqual(['one', 'three']);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          ...Messages.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })),
          { Id: 'bogus', ReceiptHandle: 'not-a-receipt-handle' },
        ],
      }),
    );
    expect(deleted.Successful?.map((entry) => entry.Id)).toEqual(['m0', 'm1']);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: 'bogus', Code: 'ReceiptHandleIsInvalid' }),
    ]);

    const entries = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ Id: `e${index}`, MessageBody: `m${index}` }));
    const refused = {
      empty: await failure(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [] }))),
      tooMany: await failure(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries(11) }))),
      repeated: await failure(
        client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: [...entries(2), { Id: 'e0', MessageBody: 'again' }],
          }),
        ),
      ),
      badId: await failure(
        client.send(
          new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'no spaces', MessageBody: 'x' }] }),
        ),
      ),
      tooLong: await failure(
        client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: [
              { Id: 'a', MessageBody: 'x'.repeat(MAX_BODY / 2) },
              { Id: 'b', MessageBody: 'x'.repeat(MAX_BODY / 2 + 1) },
            ],
          }),
        ),
      ),
      deleteEmpty: await failure(client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: [] }))),
    };
    expect(Object.fromEntries(Object.entries(refused).map(([key, error]) => [key, error.name]))).toEqual({
      empty: 'EmptyBatchRequest',
      tooMany: 'TooManyEntriesInBatchRequest',
      repeated: 'BatchEntryIdsNotDistinct',
      badId: 'InvalidBatchEntryId',
      tooLong: 'BatchRequestTooLong',
      deleteEmpty: 'EmptyBatchRequest',
    });
    for (const error of Object.values(refused)) expect(error.$metadata.httpStatusCode).toBe(400);
    // awsQueryCompatible: the Query API code travels in x-amzn-query-error and reaches `Code`.
    expect((refused.empty as SQSServiceException & { Code?: string }).Code).toBe(
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
    expect(sqs.messages(QueueUrl)).toEqual([]);
  });

  it('refuses bad input with the error the SDK surfaces, and changes nothing', async () => {
    const QueueUrl = await createQueue();
    const missing = await failure(client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })));
    expect(missing.name).toBe('QueueDoesNotExist');
    expect((missing as SQSServiceException & { Code?: string }).Code).toBe(
      'AWS.SimpleQueueService.NonExistentQueue',
    );
    expect(
      (await failure(client.send(new SendMessageCommand({ QueueUrl: `${QueueUrl}-gone`, MessageBody: 'x' }))))
        .name,
    ).toBe('QueueDoesNotExist');

    const invalid = {
      bodyTooLong: await failure(
        client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(MAX_BODY + 1) })),
      ),
      delayTooLong: await failure(
        client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', DelaySeconds: 901 })),
      ),
      negativeDelay: await failure(
        client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', DelaySeconds: -1 })),
      ),
      tooManyMessages: await failure(
        client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })),
      ),
    };
    for (const error of Object.values(invalid)) {
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.$metadata.httpStatusCode).toBe(400);
    }
    const handle = await failure(
      client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'forged' })),
    );
    expect(handle.name).toBe('ReceiptHandleIsInvalid');
    expect(
      (await failure(client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'bell \u0007' })))).name,
    ).toBe('InvalidMessageContents');
    expect(
      (
        await failure(
          client.send(
            new CreateQueueCommand({ QueueName: `looks-${queueCounter}`, Attributes: { DelaySeconds: '5' } }),
          ),
        )
      ).name,
    ).toBe('QueueNameExists');
    expect(
      (
        await failure(
          client.send(
            new CreateQueueCommand({
              QueueName: 'x',
              Attributes: { Colour: 'blue' } as Record<string, string>,
            }),
          ),
        )
      ).name,
    ).toBe('InvalidAttributeName');
    // A body of exactly the limit is fine.
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(MAX_BODY) }));
    expect(sqs.messages(QueueUrl)).toHaveLength(1);
  });

  it('checks SigV4 and counts every request per action', async () => {
    const forged = new SQSClient({
      endpoint: sqs.endpoint,
      region: 'eu-west-1',
      credentials: { ...SIGNING, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    const rejected = await forged
      .send(new GetQueueUrlCommand({ QueueName: 'looks-1' }))
      .catch((e: unknown) => e);
    forged.destroy();
    expect((rejected as SQSServiceException).name).toBe('SignatureDoesNotMatch');
    expect((rejected as SQSServiceException).$metadata.httpStatusCode).toBe(403);

    const before = sqs.requestsByAction('http');
    const QueueUrl = await createQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl }));
    await client.send(new ReceiveMessageCommand({ QueueUrl }));
    const after = sqs.requestsByAction('http');
    const delta = (action: string) => (after[action] ?? 0) - (before[action] ?? 0);
    expect([delta('CreateQueue'), delta('SendMessage'), delta('ReceiveMessage')]).toEqual([1, 1, 2]);
    expect(sqs.billableRequests()).toBeGreaterThanOrEqual(sqs.calls.length);
  });
});

describe("the model of Lambda's SQS event source mapping", () => {
  /** A handler that records its own concurrency and every record it saw. */
  function recordingHandler(decide: (event: SQSEvent) => SQSBatchResponse | undefined) {
    const seen = { running: 0, peak: 0, batches: [] as SQSEvent['Records'][] };
    const invoke: EventSourceOptions['invoke'] = async (event) => {
      seen.running++;
      seen.peak = Math.max(seen.peak, seen.running);
      seen.batches.push(event.Records);
      await new Promise((resolve) => setTimeout(resolve, 15));
      seen.running--;
      return decide(event);
    };
    return { seen, invoke };
  }

  async function sendBodies(QueueUrl: string, bodies: readonly string[]) {
    for (let start = 0; start < bodies.length; start += 10) {
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: bodies
            .slice(start, start + 10)
            .map((MessageBody, index) => ({ Id: `b${index}`, MessageBody })),
        }),
      );
    }
  }

  it('deletes what succeeded and redelivers the partial batch failures', async () => {
    const QueueUrl = await createQueue({ VisibilityTimeout: '1' });
    const bodies = Array.from({ length: 25 }, (_, index) =>
      index % 4 === 0 ? `fail-once-${index}` : `ok-${index}`,
    );
    await sendBodies(QueueUrl, bodies);
    const { seen, invoke } = recordingHandler((event) => ({
      batchItemFailures: event.Records.filter(
        (record) => record.body.startsWith('fail-once') && record.attributes.ApproximateReceiveCount === '1',
      ).map((record) => ({ itemIdentifier: record.messageId })),
    }));
    const source = startEventSource({ sqs, queueUrl: QueueUrl, invoke, maximumConcurrency: 3, batchSize: 4 });
    await source.idle({ timeoutMs: 8000 });
    await source.stop();

    const records = seen.batches.flat();
    const deliveries = new Map<string, number>();
    for (const record of records) deliveries.set(record.body, (deliveries.get(record.body) ?? 0) + 1);
    expect(Object.fromEntries(deliveries)).toEqual(
      Object.fromEntries(bodies.map((body) => [body, body.startsWith('fail-once') ? 2 : 1])),
    );
    const redelivered = records.filter((record) => record.attributes.ApproximateReceiveCount === '2');
    expect(redelivered.map((record) => record.body).sort()).toEqual(
      bodies.filter((b) => b.startsWith('fail')).sort(),
    );
    expect(Math.max(...seen.batches.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    expect(seen.peak).toBeLessThanOrEqual(3);
    const { stats } = source;
    expect(stats.records).toBe(records.length);
    expect(stats.maxBatchSize).toBeLessThanOrEqual(4);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    expect(stats.failedRecords).toBe(7);
    expect(stats.deletedRecords).toBe(25);
    expect(sqs.messages(QueueUrl)).toEqual([]);
    expect(records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: sqs.queueArn(QueueUrl),
      awsRegion: 'eu-west-1',
      messageAttributes: {},
    });
    expect(Object.keys(records[0]?.attributes ?? {}).sort()).toEqual([
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'SenderId',
      'SentTimestamp',
    ]);
  });

  it('never runs more invocations than maximumConcurrency, nor bigger batches than batchSize', async () => {
    const QueueUrl = await createQueue();
    await sendBodies(
      QueueUrl,
      Array.from({ length: 60 }, (_, index) => `m${index}`),
    );
    const { seen, invoke } = recordingHandler(() => undefined);
    const deletesBefore = sqs.requestsByAction('event-source').DeleteMessageBatch ?? 0;
    const source = startEventSource({ sqs, queueUrl: QueueUrl, invoke, maximumConcurrency: 3, batchSize: 2 });
    await source.idle({ timeoutMs: 8000 });
    await source.stop();
    expect(seen.batches.flat()).toHaveLength(60);
    expect(seen.peak).toBeLessThanOrEqual(3);
    expect(seen.peak).toBeGreaterThan(1);
    expect(source.stats.peakConcurrency).toBe(seen.peak);
    expect(
      Object.keys(source.stats.batchSizes)
        .map(Number)
        .every((size) => size >= 1 && size <= 2),
    ).toBe(true);
    expect(Object.values(source.stats.deliveries).every((count) => count === 1)).toBe(true);
    // Lambda's pollers delete with DeleteMessageBatch: one request per invocation here.
    expect(sqs.requestsByAction('event-source').DeleteMessageBatch).toBe(
      deletesBefore + source.stats.invocations,
    );
  });

  it('gathers up to batchSize within the batching window', async () => {
    const QueueUrl = await createQueue();
    await sendBodies(
      QueueUrl,
      Array.from({ length: 15 }, (_, index) => `w${index}`),
    );
    const { seen, invoke } = recordingHandler(() => undefined);
    const source = startEventSource({
      sqs,
      queueUrl: QueueUrl,
      invoke,
      batchSize: 15,
      maximumBatchingWindowMs: 1000,
      maximumConcurrency: 2,
    });
    await source.idle({ timeoutMs: 5000 });
    await source.stop();
    expect(seen.batches.map((batch) => batch.length)).toEqual([15]);
  });

  it('leaves the whole batch when the function throws or answers an invalid batch response', async () => {
    const QueueUrl = await createQueue({ VisibilityTimeout: '1' });
    await sendBodies(QueueUrl, ['throw', 'bogus-identifier', 'empty-identifier']);
    let calls = 0;
    const errors: unknown[] = [];
    const source = startEventSource({
      sqs,
      queueUrl: QueueUrl,
      batchSize: 1,
      maximumConcurrency: 2,
      onInvocationError: (error) => errors.push(error),
      invoke: async (event) => {
        calls++;
        const [record] = event.Records;
        if (record?.attributes.ApproximateReceiveCount !== '1') return undefined;
        if (record.body === 'throw') throw new Error('the look failed');
        if (record.body === 'bogus-identifier')
          return { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] };
        return { batchItemFailures: [{ itemIdentifier: '' }] };
      },
    });
    await source.idle({ timeoutMs: 8000 });
    await source.stop();
    expect(calls).toBe(6);
    expect(source.stats.failedInvocations).toBe(3);
    expect(Object.values(source.stats.deliveries)).toEqual([2, 2, 2]);
    expect(errors).toHaveLength(1);
    expect(sqs.messages(QueueUrl)).toEqual([]);
  });

  it('moves a message its function always fails to the dead-letter queue', async () => {
    const deadLetterUrl = await createQueue();
    const QueueUrl = await createQueue({
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: sqs.queueArn(deadLetterUrl),
        maxReceiveCount: '2',
      }),
    });
    await sendBodies(QueueUrl, ['poison', 'fine']);
    const source = startEventSource({
      sqs,
      queueUrl: QueueUrl,
      maximumConcurrency: 2,
      invoke: async (event) => ({
        batchItemFailures: event.Records.filter((record) => record.body === 'poison').map((record) => ({
          itemIdentifier: record.messageId,
        })),
      }),
    });
    await source.idle({ timeoutMs: 8000 });
    await source.stop();
    expect(sqs.deadLetters(QueueUrl).map((message) => message.body)).toEqual(['poison']);
    expect(Object.values(source.stats.deliveries).sort()).toEqual([1, 2]);
  });

  it('invokes with a message sent with DelaySeconds no earlier than its delay', async () => {
    const QueueUrl = await createQueue();
    const invoked: number[] = [];
    const source = startEventSource({
      sqs,
      queueUrl: QueueUrl,
      invoke: async () => {
        invoked.push(Date.now());
      },
    });
    const sentAt = Date.now();
    await client.send(
      new SendMessageCommand({ QueueUrl, MessageBody: '{"continuation":{}}', DelaySeconds: 1 }),
    );
    await source.idle({ timeoutMs: 5000 });
    await source.stop();
    expect(invoked).toHaveLength(1);
    expect((invoked[0] ?? 0) - sentAt).toBeGreaterThanOrEqual(1000);
  });

  it('stops polling when the simulator closes, and idle() says the simulator is gone', async () => {
    const own = await startSqsSim();
    const queueUrl = own.createQueue('closing');
    own.sendMessage(queueUrl, { body: 'left behind' }, 'in-process');
    const source = startEventSource({ sqs: own, queueUrl, invoke: () => new Promise(() => {}) });
    await own.close();
    await expect(source.idle()).rejects.toBeInstanceOf(SqsSimClosed);
    await expect(own.receiveMessages(queueUrl)).rejects.toBeInstanceOf(SqsSimClosed);
  });

  it('refuses settings Lambda refuses', () => {
    const QueueUrl = sqs.createQueue('settings');
    const invoke = async () => undefined;
    expect(() => startEventSource({ sqs, queueUrl: QueueUrl, invoke, maximumConcurrency: 1 })).toThrow(
      RangeError,
    );
    expect(() => startEventSource({ sqs, queueUrl: QueueUrl, invoke, batchSize: 11 })).toThrow(
      /maximumBatchingWindowMs/,
    );
    expect(() => startEventSource({ sqs, queueUrl: QueueUrl, invoke, batchSize: 0 })).toThrow(RangeError);
  });
});

describe("EventBridge's SQS target", () => {
  it('sends the whole matched event as the message body, which the event source hands to the function', async () => {
    const bus = await startEventBridgeSim();
    const QueueUrl = await createQueue();
    bus.addRule({
      name: 'looks',
      pattern: { source: ['rollout-verifier.test'] },
      target: sqsTarget(sqs, QueueUrl),
    });
    const events = new EventBridgeClient({ endpoint: bus.endpoint, region: 'eu-west-1' });
    await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'rollout-verifier.test', DetailType: 'Step', Detail: '{"step":2}', Resources: ['arn:x'] },
          { Source: 'someone.else', DetailType: 'Step', Detail: '{}' },
        ],
      }),
    );
    events.destroy();
    await bus.drain();
    expect(bus.deliveryFailures()).toEqual([]);

    const bodies: string[] = [];
    const source = startEventSource({
      sqs,
      queueUrl: QueueUrl,
      invoke: async (event) => {
        bodies.push(...event.Records.map((record) => record.body));
      },
    });
    await source.idle({ timeoutMs: 5000 });
    await source.stop();
    await bus.close();

    const [delivered] = bus.events().filter((record) => record.event.source === 'rollout-verifier.test');
    expect(bodies).toEqual([JSON.stringify(delivered?.event)]);
    expect(Object.keys(JSON.parse(bodies[0] ?? '{}'))).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(JSON.parse(bodies[0] ?? '{}')).toMatchObject({ detail: { step: 2 }, resources: ['arn:x'] });
    expect(sqs.requestsByAction('eventbridge')).toEqual({ SendMessage: 1 });
  });
});
