import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../loopback-server.js';
import { verifyJsonProtocolRequest } from '../sigv4-verify.js';
import {
  batchRequestTooLong,
  emptyBatch,
  idsNotDistinct,
  invalidAttributeName,
  invalidBatchEntryId,
  invalidParameter,
  missingParameter,
  SqsError,
  tooManyEntries,
} from './errors.js';
import { type MessageAttributes, messageSize, selectAttributes } from './message.js';
import {
  integerIn,
  type MessageView,
  type QueueCounts,
  QueueStore,
  type ReceivedMessage,
  type SendResult,
  type SimQueue,
} from './queue.js';

/**
 * SQS on 127.0.0.1 for the real `@aws-sdk/client-sqs` (AWS JSON 1.0: `POST /`,
 * `X-Amz-Target: AmazonSQS.<Action>`, `application/x-amz-json-1.0`; errors with `__type` and the
 * awsQueryCompatible `x-amzn-query-error` header): CreateQueue, GetQueueUrl, SendMessage,
 * SendMessageBatch, ReceiveMessage (long polling), DeleteMessage, DeleteMessageBatch,
 * ChangeMessageVisibility, GetQueueAttributes — standard queues only. The same queues are
 * reachable in-process (the Lambda event source model, EventBridge's SQS target, tests); every
 * request, over HTTP or in-process, is counted per action for the bench's cost model.
 */

/** Who made a request: the API over HTTP, or a service acting in-process (all billed alike). */
export type RequestOrigin = 'http' | 'event-source' | 'eventbridge' | 'in-process';

export interface SqsCall {
  action: string;
  origin: RequestOrigin;
  /** HTTP status (in-process calls: 200, or the status the error would have had). */
  status: number;
  /** The `__type` shape of a failed request. */
  error?: string;
  /** Message bytes sent or received (what SQS bills in 64 KiB chunks). */
  payloadBytes: number;
}

export interface SqsSimOptions {
  region?: string;
  account?: string;
  /** Access key → secret: HTTP requests must be SigV4-signed by one of them. Absent: not checked. */
  credentials?: Record<string, string>;
}

export interface SendMessageInput {
  body: string;
  /** 0–900; absent: the queue's DelaySeconds. */
  delaySeconds?: number;
  messageAttributes?: MessageAttributes;
  /** The SenderId attribute receivers see. Default: an IAM user id. */
  senderId?: string;
}

export interface ReceiveInput {
  /** 1–10. Default 1, as the API. */
  maxNumberOfMessages?: number;
  /** Default: the queue's VisibilityTimeout. */
  visibilityTimeoutSeconds?: number;
  /** Long poll: how long to wait for a first message. Default 0. */
  waitTimeMs?: number;
  signal?: AbortSignal;
}

export interface SqsSim {
  endpoint: string;
  region: string;
  account: string;
  readonly calls: readonly SqsCall[];
  /** Requests per action (e.g. `{ SendMessage: 12, ReceiveMessage: 40 }`), of one origin or all. */
  requestsByAction(origin?: RequestOrigin): Record<string, number>;
  /** Requests as SQS bills them: each started 64 KiB of payload is one request. */
  billableRequests(): number;
  /** CreateQueue in-process; returns the queue URL. Attributes as the API takes them (strings). */
  createQueue(name: string, attributes?: Record<string, string>): string;
  queueUrl(name: string): string;
  queueArn(queueUrl: string): string;
  /** Every message stored in the queue (visible, delayed and in flight), oldest first. */
  messages(queueUrl: string): MessageView[];
  /** The messages in the dead-letter queue of this queue's RedrivePolicy (throws if it has none). */
  deadLetters(queueUrl: string): MessageView[];
  counts(queueUrl: string): QueueCounts;
  /** SendMessage in-process (counted as a request of `origin`). */
  sendMessage(queueUrl: string, input: SendMessageInput, origin?: RequestOrigin): SendResult;
  /** ReceiveMessage in-process, with the same receive counts, visibility and redrive. */
  receiveMessages(queueUrl: string, input?: ReceiveInput, origin?: RequestOrigin): Promise<ReceivedMessage[]>;
  /** DeleteMessageBatch in-process, 10 handles per counted request; stale handles delete nothing. */
  deleteMessages(queueUrl: string, receiptHandles: readonly string[], origin?: RequestOrigin): void;
  /** Resolves when the queue changes, one of its message timers runs out, or at `untilMs`. */
  waitForChange(queueUrl: string, untilMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AmazonSQS.';
const MAX_BATCH_ENTRIES = 10;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const BILLING_CHUNK_BYTES = 65_536;
const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'DeadLetterQueueSourceArn',
] as const;
const QUEUE_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'DelaySeconds',
  'LastModifiedTimestamp',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'QueueArn',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'VisibilityTimeout',
] as const;

type Input = Record<string, unknown>;
type Action = (input: Input, call: SqsCall, signal: AbortSignal) => unknown;

export async function startSqsSim(options: SqsSimOptions = {}): Promise<SqsSim> {
  const region = options.region ?? 'eu-west-1';
  const account = options.account ?? '123456789012';
  let endpoint = '';
  const store = new QueueStore(region, account, () => endpoint);
  const calls: SqsCall[] = [];

  const record = (action: string, origin: RequestOrigin): SqsCall => {
    const call: SqsCall = { action, origin, status: 200, payloadBytes: 0 };
    calls.push(call);
    return call;
  };
  /** Runs an in-process request, recording its failure as the HTTP front would. */
  const counted = <T>(action: string, origin: RequestOrigin, run: (call: SqsCall) => T): T => {
    const call = record(action, origin);
    try {
      return run(call);
    } catch (error) {
      if (error instanceof SqsError) {
        call.status = error.status;
        call.error = error.shape;
      }
      throw error;
    }
  };

  const received = (message: ReceivedMessage) => messageSize(message.body, message.messageAttributes);

  const actions: Record<string, Action> = {
    CreateQueue(input) {
      const attributes = stringMap(input.Attributes, 'Attributes');
      return { QueueUrl: store.createQueue(input.QueueName, attributes).url };
    },
    GetQueueUrl(input) {
      return { QueueUrl: store.byName(input.QueueName).url };
    },
    SendMessage(input, call) {
      const queue = store.byUrl(input.QueueUrl);
      const result = store.send(queue, {
        body: input.MessageBody,
        delaySeconds: input.DelaySeconds,
        messageAttributes: input.MessageAttributes,
      });
      call.payloadBytes = messageSize(
        String(input.MessageBody),
        queue.messages.get(result.messageId)?.attributes ?? {},
      );
      return sendOutput(result);
    },
    SendMessageBatch(input, call) {
      const queue = store.byUrl(input.QueueUrl);
      const entries = batchEntries(input.Entries, 'SendMessageBatchRequestEntry');
      const total = entries.reduce(
        (sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? ''), 'utf8'),
        0,
      );
      if (total > queue.settings.maximumMessageSize)
        throw batchRequestTooLong(queue.settings.maximumMessageSize, total);
      call.payloadBytes = total;
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          const result = store.send(queue, {
            body: entry.MessageBody,
            delaySeconds: entry.DelaySeconds,
            messageAttributes: entry.MessageAttributes,
          });
          Successful.push({ Id: entry.Id, ...sendOutput(result) });
        } catch (error) {
          Failed.push(entryFailure(entry.Id, error));
        }
      }
      return { Successful, Failed };
    },
    async ReceiveMessage(input, call, signal) {
      const queue = store.byUrl(input.QueueUrl);
      const max = optionalInteger(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10) ?? 1;
      const visibility = optionalInteger(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200);
      const wait =
        optionalInteger(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20) ??
        queue.settings.receiveMessageWaitTimeSeconds;
      const systemNames = [
        ...stringList(input.AttributeNames),
        ...stringList(input.MessageSystemAttributeNames),
      ];
      const attributeNames = stringList(input.MessageAttributeNames);
      const messages = await store.receive(queue, {
        max,
        ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: visibility }),
        waitMs: wait * 1000,
        signal,
      });
      call.payloadBytes = messages.reduce((sum, message) => sum + received(message), 0);
      if (messages.length === 0) return {};
      return { Messages: messages.map((message) => messageOutput(message, systemNames, attributeNames)) };
    },
    DeleteMessage(input) {
      store.delete(store.byUrl(input.QueueUrl), input.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch(input) {
      const queue = store.byUrl(input.QueueUrl);
      const entries = batchEntries(input.Entries, 'DeleteMessageBatchRequestEntry');
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          store.delete(queue, entry.ReceiptHandle);
          Successful.push({ Id: entry.Id });
        } catch (error) {
          Failed.push(entryFailure(entry.Id, error));
        }
      }
      return { Successful, Failed };
    },
    ChangeMessageVisibility(input) {
      const queue = store.byUrl(input.QueueUrl);
      if (input.VisibilityTimeout === undefined) throw missingParameter('VisibilityTimeout');
      store.changeVisibility(queue, input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    },
    GetQueueAttributes(input) {
      const queue = store.byUrl(input.QueueUrl);
      const names = stringList(input.AttributeNames);
      for (const name of names) {
        if (name !== 'All' && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name))
          throw invalidAttributeName(name);
      }
      const all = queueAttributes(queue, store.counts(queue));
      const wanted = names.includes('All') ? Object.keys(all) : names;
      const Attributes = Object.fromEntries(Object.entries(all).filter(([name]) => wanted.includes(name)));
      return Object.keys(Attributes).length > 0 ? { Attributes } : {};
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const call = record(action, 'http');
    const aborted = new AbortController();
    response.on('close', () => aborted.abort());
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      if (response.destroyed) return;
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID(),
        ...headers,
      });
      response.end(JSON.stringify(payload));
    };
    try {
      if (options.credentials) {
        const check = verifyJsonProtocolRequest(request, body, (key) => options.credentials?.[key], 'sqs');
        if (!check.ok) {
          // The codes SQS answers: an unknown key, a signature that does not match, no signature.
          const shape = {
            UnrecognizedClient: 'InvalidClientTokenId',
            InvalidSignature: 'SignatureDoesNotMatch',
            MissingAuthenticationToken: 'MissingAuthenticationToken',
          }[check.code];
          throw new SqsError(shape, shape, check.message, 403);
        }
      }
      const run = actions[action];
      if (request.method !== 'POST' || !run) {
        throw new SqsError(
          'UnknownOperationException',
          'InvalidAction',
          `The action or operation requested is invalid (the SQS simulator does not answer ${target || 'this request'}).`,
        );
      }
      let input: Input;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Input;
      } catch {
        throw new SqsError(
          'SerializationException',
          'SerializationException',
          'The request body is not JSON.',
        );
      }
      send(200, await run(input, call, aborted.signal));
    } catch (error) {
      const failure =
        error instanceof SqsError
          ? error
          : new SqsError(
              'InternalError',
              'InternalError',
              error instanceof Error ? error.message : String(error),
              500,
            );
      call.error = failure.shape;
      send(
        failure.status,
        { __type: `com.amazonaws.sqs#${failure.shape}`, message: failure.message },
        { 'x-amzn-query-error': `${failure.queryCode};${failure.fault}` },
      );
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const listener = await listenOnLoopback(server);
  endpoint = `http://127.0.0.1:${listener.port}`;

  return {
    endpoint,
    region,
    account,
    calls,
    requestsByAction(origin) {
      const counts: Record<string, number> = {};
      for (const call of calls) {
        if (origin === undefined || call.origin === origin)
          counts[call.action] = (counts[call.action] ?? 0) + 1;
      }
      return counts;
    },
    billableRequests: () =>
      calls.reduce((sum, call) => sum + Math.max(1, Math.ceil(call.payloadBytes / BILLING_CHUNK_BYTES)), 0),
    createQueue: (name, attributes = {}) =>
      counted('CreateQueue', 'in-process', () => store.createQueue(name, attributes).url),
    queueUrl: (name) => store.byName(name).url,
    queueArn: (queueUrl) => store.byUrl(queueUrl).arn,
    messages: (queueUrl) => store.view(store.byUrl(queueUrl)),
    deadLetters(queueUrl) {
      const queue = store.byUrl(queueUrl);
      const target = queue.settings.redrivePolicy?.deadLetterTargetArn;
      const deadLetterQueue = target ? store.byArn(target) : undefined;
      if (!deadLetterQueue) throw new Error(`the queue ${queue.name} has no dead-letter queue`);
      return store.view(deadLetterQueue);
    },
    counts: (queueUrl) => store.counts(store.byUrl(queueUrl)),
    sendMessage: (queueUrl, input, origin = 'in-process') =>
      counted('SendMessage', origin, (call) => {
        const result = store.send(store.byUrl(queueUrl), input);
        call.payloadBytes = messageSize(input.body, input.messageAttributes ?? {});
        return result;
      }),
    async receiveMessages(queueUrl, input = {}, origin = 'in-process') {
      const call = record('ReceiveMessage', origin);
      const queue = store.byUrl(queueUrl);
      const messages = await store.receive(queue, {
        max: integerIn(input.maxNumberOfMessages ?? 1, 'MaxNumberOfMessages', 1, 10),
        ...(input.visibilityTimeoutSeconds === undefined
          ? {}
          : {
              visibilityTimeoutSeconds: integerIn(
                input.visibilityTimeoutSeconds,
                'VisibilityTimeout',
                0,
                43_200,
              ),
            }),
        waitMs: input.waitTimeMs ?? 0,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      call.payloadBytes = messages.reduce((sum, message) => sum + received(message), 0);
      return messages;
    },
    deleteMessages(queueUrl, receiptHandles, origin = 'in-process') {
      const queue = store.byUrl(queueUrl);
      for (let start = 0; start < receiptHandles.length; start += MAX_BATCH_ENTRIES) {
        counted('DeleteMessageBatch', origin, () => {
          for (const handle of receiptHandles.slice(start, start + MAX_BATCH_ENTRIES))
            store.delete(queue, handle);
        });
      }
    },
    waitForChange: (queueUrl, untilMs, signal) => store.waitForChange(store.byUrl(queueUrl), untilMs, signal),
    close: async () => {
      store.close();
      await listener.close();
    },
  };
}

function sendOutput(result: SendResult) {
  return {
    MessageId: result.messageId,
    MD5OfMessageBody: result.md5OfMessageBody,
    ...(result.md5OfMessageAttributes ? { MD5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
  };
}

function messageOutput(
  message: ReceivedMessage,
  systemNames: readonly string[],
  attributeNames: readonly string[],
) {
  const system: Record<string, string | undefined> = {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.approximateReceiveCount),
    ApproximateFirstReceiveTimestamp: String(message.approximateFirstReceiveTimestamp),
    DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn,
  };
  const wanted = systemNames.includes('All') ? SYSTEM_ATTRIBUTES : systemNames;
  const Attributes = Object.fromEntries(
    wanted.flatMap((name) => (system[name] === undefined ? [] : [[name, system[name]]])),
  );
  const MessageAttributes = selectAttributes(message.messageAttributes, attributeNames);
  const hasAttributes = Object.keys(MessageAttributes).length > 0;
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
    ...(hasAttributes && message.md5OfMessageAttributes
      ? { MD5OfMessageAttributes: message.md5OfMessageAttributes, MessageAttributes }
      : {}),
  };
}

function queueAttributes(queue: SimQueue, counts: QueueCounts): Record<string, string> {
  const { settings } = queue;
  return {
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    DelaySeconds: String(settings.delaySeconds),
    LastModifiedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    MaximumMessageSize: String(settings.maximumMessageSize),
    MessageRetentionPeriod: String(settings.messageRetentionPeriodSeconds),
    QueueArn: queue.arn,
    ReceiveMessageWaitTimeSeconds: String(settings.receiveMessageWaitTimeSeconds),
    ...(settings.redrivePolicy ? { RedrivePolicy: JSON.stringify(settings.redrivePolicy) } : {}),
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
  };
}

/** Batch checks in the service's order: empty, too many, malformed ids, repeated ids. */
function batchEntries(raw: unknown, entryName: string): Input[] {
  const entries = raw === undefined ? [] : raw;
  if (!Array.isArray(entries)) throw invalidParameter('Entries must be a list.');
  if (entries.length === 0) throw emptyBatch(entryName);
  if (entries.length > MAX_BATCH_ENTRIES) throw tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const entry of entries as Input[]) {
    if (typeof entry?.Id !== 'string' || !BATCH_ENTRY_ID.test(entry.Id)) throw invalidBatchEntryId();
  }
  for (const entry of entries as Input[]) {
    const id = entry.Id as string;
    if (seen.has(id)) throw idsNotDistinct(id);
    seen.add(id);
  }
  return entries as Input[];
}

function entryFailure(id: unknown, error: unknown) {
  if (!(error instanceof SqsError)) throw error;
  return { Id: id, SenderFault: error.fault === 'Sender', Code: error.queryCode, Message: error.message };
}

function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  return value === undefined || value === null ? undefined : integerIn(value, name, min, max);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${name} must be a map.`);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, String(item)]),
  );
}
