import { randomBytes, randomUUID } from 'node:crypto';
import {
  invalidAttributeName,
  invalidParameter,
  messageNotInflight,
  queueDoesNotExist,
  queueNameExists,
  receiptHandleIsInvalid,
} from './errors.js';
import {
  type MessageAttributes,
  md5Hex,
  md5OfMessageAttributes,
  messageSize,
  validateBody,
  validateMessageAttributes,
} from './message.js';

/**
 * The queues themselves, in-process: what SendMessage, ReceiveMessage, DeleteMessage and
 * ChangeMessageVisibility do to a standard queue, with message timers (DelaySeconds, visibility
 * timeout), receive counts and the redrive policy. The HTTP front (server.ts) and the Lambda
 * event source model (event-source.ts) both act through this class, so a message polled by the
 * event source is received, counted and redriven exactly as one received over the API.
 *
 * Unlike a real standard queue it never delivers a message twice at once, never samples a subset
 * of servers (a receive returns up to the maximum visible messages, oldest first) and keeps no
 * in-flight limit (120,000 in the service).
 */

/** What SQS answers for a queue's attributes, in seconds and bytes. */
export interface QueueSettings {
  delaySeconds: number;
  visibilityTimeoutSeconds: number;
  receiveMessageWaitTimeSeconds: number;
  maximumMessageSize: number;
  messageRetentionPeriodSeconds: number;
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

export const DEFAULT_SETTINGS: QueueSettings = {
  delaySeconds: 0,
  visibilityTimeoutSeconds: 30,
  receiveMessageWaitTimeSeconds: 0,
  // The size limit the brief fixes for the simulator; the service raised its default and
  // maximum to 1 MiB (1,048,576) in August 2025: pass MaximumMessageSize to model that.
  maximumMessageSize: 262_144,
  messageRetentionPeriodSeconds: 345_600,
};

/** A message as a receiver gets it (all system attributes; the HTTP front picks what was asked). */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  messageAttributes: MessageAttributes;
  md5OfMessageAttributes?: string;
  senderId: string;
  sentTimestamp: number;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp: number;
  /** Set on a message the redrive policy moved here: the ARN of the queue it came from. */
  deadLetterQueueSourceArn?: string;
}

export type MessageState = 'visible' | 'delayed' | 'in-flight';

/** A read-only view of a stored message, for tests and the demo. */
export interface MessageView {
  messageId: string;
  body: string;
  messageAttributes: MessageAttributes;
  state: MessageState;
  receiveCount: number;
  sentTimestamp: number;
  /** When a delayed or in-flight message becomes visible (ms since the epoch). */
  visibleAt: number;
  deadLetterQueueSourceArn?: string;
}

export interface QueueCounts {
  visible: number;
  delayed: number;
  inFlight: number;
}

export interface SendInput {
  body: unknown;
  delaySeconds?: unknown;
  messageAttributes?: unknown;
  senderId?: string;
}

export interface SendResult {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: MessageAttributes;
  md5OfAttributes?: string;
  senderId: string;
  sentTimestamp: number;
  sequence: number;
  delayedUntil: number;
  invisibleUntil: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  receiptHandle?: string;
  deadLetterQueueSourceArn?: string;
}

export class SimQueue {
  readonly messages = new Map<string, StoredMessage>();
  readonly listeners = new Set<() => void>();
  readonly createdTimestamp = Date.now();
  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    readonly settings: QueueSettings,
    readonly rawAttributes: Readonly<Record<string, string>>,
  ) {}

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  stateOf(message: StoredMessage, now: number): MessageState {
    if (now < message.delayedUntil) return 'delayed';
    if (now < message.invisibleUntil) return 'in-flight';
    return 'visible';
  }

  /** The next moment a delayed or in-flight message becomes visible, if any. */
  nextTransition(now: number): number | undefined {
    let next: number | undefined;
    for (const message of this.messages.values()) {
      const at = Math.max(message.delayedUntil, message.invisibleUntil);
      if (at > now && (next === undefined || at < next)) next = at;
    }
    return next;
  }
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 43_200;

/** Thrown by a receive or wait that starts after the simulator closed (pollers stop on it). */
export class SqsSimClosed extends Error {
  override readonly name = 'SqsSimClosed';
  constructor() {
    super('the SQS simulator is closed');
  }
}

export const DEFAULT_SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';

export class QueueStore {
  private readonly queues = new Map<string, SimQueue>();
  private sequence = 0;
  private closed = false;

  constructor(
    readonly region: string,
    readonly account: string,
    private readonly baseUrl: () => string,
  ) {}

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.account}:${name}`;
  }

  urlOf(name: string): string {
    return `${this.baseUrl()}/${this.account}/${name}`;
  }

  /** CreateQueue: idempotent for the same attributes, QueueNameExists for different ones. */
  createQueue(name: unknown, attributes: Record<string, string> = {}): SimQueue {
    if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
      throw invalidParameter(
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (FIFO queues are not simulated); got ${JSON.stringify(name)}.`,
      );
    }
    const existing = this.queues.get(name);
    if (existing) {
      const same =
        JSON.stringify(Object.entries(existing.rawAttributes).sort()) ===
        JSON.stringify(Object.entries(attributes).sort());
      if (!same) throw queueNameExists(name);
      return existing;
    }
    const settings = this.settingsOf(attributes);
    const queue = new SimQueue(name, this.urlOf(name), this.arnOf(name), settings, { ...attributes });
    this.queues.set(name, queue);
    return queue;
  }

  byName(name: unknown): SimQueue {
    const queue = typeof name === 'string' ? this.queues.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  byArn(arn: string): SimQueue | undefined {
    return [...this.queues.values()].find((queue) => queue.arn === arn);
  }

  /** A queue URL names `/<account>/<name>`; the host part is not compared (the SDK may rewrite it). */
  byUrl(url: unknown): SimQueue {
    if (typeof url !== 'string') throw queueDoesNotExist();
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw queueDoesNotExist();
    }
    const [, account, name, ...rest] = path.split('/');
    if (account !== this.account || rest.length > 0) throw queueDoesNotExist();
    return this.byName(name);
  }

  send(queue: SimQueue, input: SendInput, now = Date.now()): SendResult {
    const body = validateBody(input.body);
    const attributes = validateMessageAttributes(input.messageAttributes);
    const size = messageSize(body, attributes);
    if (size > queue.settings.maximumMessageSize) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.maximumMessageSize} bytes.`,
      );
    }
    const delaySeconds =
      input.delaySeconds === undefined || input.delaySeconds === null
        ? queue.settings.delaySeconds
        : integerIn(input.delaySeconds, 'DelaySeconds', 0, MAX_DELAY_SECONDS);
    const hasAttributes = Object.keys(attributes).length > 0;
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      attributes,
      ...(hasAttributes ? { md5OfAttributes: md5OfMessageAttributes(attributes) } : {}),
      senderId: input.senderId ?? DEFAULT_SENDER_ID,
      sentTimestamp: now,
      sequence: ++this.sequence,
      delayedUntil: now + delaySeconds * 1000,
      invisibleUntil: 0,
      receiveCount: 0,
    };
    queue.messages.set(message.messageId, message);
    queue.notify();
    return {
      messageId: message.messageId,
      md5OfMessageBody: message.md5OfBody,
      ...(message.md5OfAttributes ? { md5OfMessageAttributes: message.md5OfAttributes } : {}),
    };
  }

  /**
   * One receive without waiting: the oldest visible messages, up to `max`. A message already
   * received maxReceiveCount times moves to the dead-letter queue instead of being delivered.
   */
  receiveNow(
    queue: SimQueue,
    max: number,
    visibilityTimeoutSeconds?: number,
    now = Date.now(),
  ): ReceivedMessage[] {
    this.expire(queue, now);
    const visibility = visibilityTimeoutSeconds ?? queue.settings.visibilityTimeoutSeconds;
    const visible = [...queue.messages.values()]
      .filter((message) => queue.stateOf(message, now) === 'visible')
      .sort((a, b) => a.sequence - b.sequence);
    const received: ReceivedMessage[] = [];
    for (const message of visible) {
      if (received.length >= max) break;
      const redrive = queue.settings.redrivePolicy;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, redrive.deadLetterTargetArn);
        continue;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.invisibleUntil = now + visibility * 1000;
      message.receiptHandle = receiptHandleOf(queue, message);
      received.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        md5OfBody: message.md5OfBody,
        messageAttributes: structuredClone(message.attributes),
        ...(message.md5OfAttributes ? { md5OfMessageAttributes: message.md5OfAttributes } : {}),
        senderId: message.senderId,
        sentTimestamp: message.sentTimestamp,
        approximateReceiveCount: message.receiveCount,
        approximateFirstReceiveTimestamp: message.firstReceiveTimestamp,
        ...(message.deadLetterQueueSourceArn
          ? { deadLetterQueueSourceArn: message.deadLetterQueueSourceArn }
          : {}),
      });
    }
    if (received.length > 0) queue.notify();
    return received;
  }

  /**
   * ReceiveMessage with long polling: returns as soon as one message is visible, or empty after
   * `waitMs`, or at once when the signal aborts or the store closes.
   */
  async receive(
    queue: SimQueue,
    options: { max: number; visibilityTimeoutSeconds?: number; waitMs: number; signal?: AbortSignal },
  ): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + options.waitMs;
    if (this.closed) throw new SqsSimClosed();
    for (;;) {
      const received = this.receiveNow(queue, options.max, options.visibilityTimeoutSeconds);
      if (received.length > 0 || Date.now() >= deadline || this.closed || options.signal?.aborted) {
        return received;
      }
      await this.waitForChange(queue, deadline, options.signal);
    }
  }

  /** DeleteMessage: only the newest receipt handle deletes; an older one succeeds and deletes nothing. */
  delete(queue: SimQueue, receiptHandle: unknown): void {
    const messageId = parseReceiptHandle(queue, receiptHandle);
    const message = queue.messages.get(messageId);
    if (message && message.receiptHandle === receiptHandle) {
      queue.messages.delete(messageId);
      queue.notify();
    }
  }

  changeVisibility(queue: SimQueue, receiptHandle: unknown, timeout: unknown, now = Date.now()): void {
    const messageId = parseReceiptHandle(queue, receiptHandle);
    const seconds = integerIn(timeout, 'VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS);
    const message = queue.messages.get(messageId);
    if (!message || message.receiptHandle !== receiptHandle || queue.stateOf(message, now) !== 'in-flight') {
      throw messageNotInflight();
    }
    message.invisibleUntil = now + seconds * 1000;
    queue.notify();
  }

  counts(queue: SimQueue, now = Date.now()): QueueCounts {
    this.expire(queue, now);
    const counts: QueueCounts = { visible: 0, delayed: 0, inFlight: 0 };
    for (const message of queue.messages.values()) {
      const state = queue.stateOf(message, now);
      if (state === 'visible') counts.visible++;
      else if (state === 'delayed') counts.delayed++;
      else counts.inFlight++;
    }
    return counts;
  }

  view(queue: SimQueue, now = Date.now()): MessageView[] {
    this.expire(queue, now);
    return [...queue.messages.values()]
      .sort((a, b) => a.sequence - b.sequence)
      .map((message) => ({
        messageId: message.messageId,
        body: message.body,
        messageAttributes: structuredClone(message.attributes),
        state: queue.stateOf(message, now),
        receiveCount: message.receiveCount,
        sentTimestamp: message.sentTimestamp,
        visibleAt: Math.max(message.delayedUntil, message.invisibleUntil, now),
        ...(message.deadLetterQueueSourceArn
          ? { deadLetterQueueSourceArn: message.deadLetterQueueSourceArn }
          : {}),
      }));
  }

  /** Resolves when the queue changes, a timer of one of its messages runs out, or at `until`. */
  waitForChange(queue: SimQueue, until: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new SqsSimClosed());
    if (signal?.aborted) return Promise.resolve();
    const now = Date.now();
    const wake = Math.min(until, queue.nextTransition(now) ?? until);
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.listeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wake - now));
      timer.unref();
      queue.listeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every waiting receive (they answer empty); later receives and waits throw SqsSimClosed. */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) queue.notify();
  }

  private moveToDeadLetterQueue(queue: SimQueue, message: StoredMessage, targetArn: string): void {
    const target = this.byArn(targetArn);
    queue.messages.delete(message.messageId);
    if (!target) return; // the service drops nothing silently either, but a deleted DLQ is not modeled
    const moved: StoredMessage = {
      ...message,
      sequence: ++this.sequence,
      delayedUntil: 0,
      invisibleUntil: 0,
      deadLetterQueueSourceArn: queue.arn,
    };
    delete moved.receiptHandle;
    target.messages.set(moved.messageId, moved);
    target.notify();
  }

  private expire(queue: SimQueue, now: number): void {
    const oldest = now - queue.settings.messageRetentionPeriodSeconds * 1000;
    for (const message of queue.messages.values()) {
      if (message.sentTimestamp < oldest) queue.messages.delete(message.messageId);
    }
  }

  private settingsOf(attributes: Record<string, string>): QueueSettings {
    const settings: QueueSettings = { ...DEFAULT_SETTINGS };
    for (const [name, value] of Object.entries(attributes)) {
      switch (name) {
        case 'DelaySeconds':
          settings.delaySeconds = integerIn(value, name, 0, MAX_DELAY_SECONDS);
          break;
        case 'VisibilityTimeout':
          settings.visibilityTimeoutSeconds = integerIn(value, name, 0, MAX_VISIBILITY_SECONDS);
          break;
        case 'ReceiveMessageWaitTimeSeconds':
          settings.receiveMessageWaitTimeSeconds = integerIn(value, name, 0, 20);
          break;
        case 'MaximumMessageSize':
          settings.maximumMessageSize = integerIn(value, name, 1024, 1_048_576);
          break;
        case 'MessageRetentionPeriod':
          settings.messageRetentionPeriodSeconds = integerIn(value, name, 60, 1_209_600);
          break;
        case 'RedrivePolicy':
          settings.redrivePolicy = this.redrivePolicyOf(value);
          break;
        default:
          throw invalidAttributeName(name);
      }
    }
    return settings;
  }

  private redrivePolicyOf(value: string): QueueSettings['redrivePolicy'] {
    let policy: Record<string, unknown>;
    try {
      policy = JSON.parse(value) as Record<string, unknown>;
    } catch {
      throw invalidParameter(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Invalid JSON.`);
    }
    const arn = policy.deadLetterTargetArn;
    const maxReceiveCount = Number(policy.maxReceiveCount);
    if (
      typeof arn !== 'string' ||
      !Number.isInteger(maxReceiveCount) ||
      maxReceiveCount < 1 ||
      maxReceiveCount > 1000
    ) {
      throw invalidParameter(
        `Value ${value} for parameter RedrivePolicy is invalid. Reason: Redrive policy needs deadLetterTargetArn and a maxReceiveCount of 1 to 1000.`,
      );
    }
    if (!this.byArn(arn)) {
      throw invalidParameter(
        `Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
      );
    }
    return { deadLetterTargetArn: arn, maxReceiveCount };
  }
}

/** An integer in [min, max], from a number or a numeric string (queue attributes are strings). */
export function integerIn(value: unknown, name: string, min: number, max: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be an integer from ${min} to ${max}.`,
    );
  }
  return number;
}

// Opaque to callers, like the service's: base64 of the queue ARN, the message id and a nonce.
function receiptHandleOf(queue: SimQueue, message: StoredMessage): string {
  return Buffer.from(
    `${queue.arn} ${message.messageId} ${message.receiveCount} ${randomBytes(12).toString('hex')}`,
  ).toString('base64');
}

function parseReceiptHandle(queue: SimQueue, handle: unknown): string {
  if (typeof handle !== 'string' || handle.length === 0) throw receiptHandleIsInvalid(String(handle ?? ''));
  const parts = Buffer.from(handle, 'base64').toString('utf8').split(' ');
  const [arn, messageId] = parts;
  if (parts.length !== 4 || arn !== queue.arn || !messageId) throw receiptHandleIsInvalid(handle);
  return messageId;
}
