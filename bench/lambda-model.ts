import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/**
 * A small model of the Lambda service around one function's bundle, enough for the benchmark:
 *
 * - A container is one module instance of the bundle (imported with its own `?container=N` URL),
 *   so each has its own SDK clients, discovery cache and stale-event memory, as real containers
 *   do. It runs one invocation at a time. Containers live in this one Node process and share its
 *   CPU and event loop, which real containers do not.
 * - Reserved concurrency caps the containers. A synchronous invoke (Function URL) finding none
 *   free is answered 429. An asynchronous invoke (EventBridge's target) is queued and retried
 *   with exponential backoff while throttled (Lambda: 1 s doubling up to 5 min; the cap is a
 *   parameter here so the benchmark ends), and a function error is retried `retryAttempts`
 *   times after Lambda's 1 and 2 minutes before the event counts as dead-lettered.
 * - The context's remaining time follows the function timeout; the handler's promise is not cut
 *   at the timeout (a JavaScript promise cannot be), it is counted as a timeout instead.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface FunctionModelOptions {
  name: string;
  /** The bundle (index.mjs) to import per container. */
  bundle: string;
  reservedConcurrency: number;
  timeoutSeconds: number;
  /** Async invocations: retries after a function error (the stack sets 1). */
  retryAttempts?: number;
  throttleRetry?: { initialMs: number; maxMs: number };
  /**
   * How long a container stays taken after its handler returns: the Lambda runtime's round trips
   * (response, next invocation) that in-process calls skip. 0 (default) for the scenarios that
   * measure the handlers; the flood sets a floor on it, because how many requests 5 containers can
   * turn away per second is exactly what a flood is about.
   */
  invocationOverheadMs?: number;
  random?: () => number;
  /** The function's memory (the stack: 256 MB), for GB-seconds. */
  memoryMb?: number;
}

interface Container {
  id: number;
  handler: Handler;
  busy: boolean;
}

export interface FunctionStats {
  invocations: number;
  /** Async attempts that found no free container (each is retried). */
  throttledAttempts: number;
  /** Sync invokes answered 429. */
  rejected: number;
  errors: number;
  timeouts: number;
  deadLettered: number;
  containers: number;
  /** The most invocations running at once. */
  peakConcurrency: number;
  /** The longest an async event waited between acceptance and the start of its invocation. */
  maxQueueWaitMs: number;
  /** Wall time of every invocation, each rounded up to the millisecond as Lambda bills it. */
  billedMs: number;
}

let instances = 0;

export class FunctionModel {
  readonly stats: FunctionStats = {
    invocations: 0,
    throttledAttempts: 0,
    rejected: 0,
    errors: 0,
    timeouts: 0,
    deadLettered: 0,
    containers: 0,
    peakConcurrency: 0,
    maxQueueWaitMs: 0,
    billedMs: 0,
  };
  readonly deadLetters: unknown[] = [];
  private readonly containers: Container[] = [];
  private running = 0;
  private starting = 0;
  private pendingAsync = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly options: FunctionModelOptions) {}

  /** Starts `count` containers now (cold starts outside any measurement). */
  async prewarm(count = this.options.reservedConcurrency): Promise<void> {
    while (this.containers.length < Math.min(count, this.options.reservedConcurrency)) {
      this.containers.push(await this.startContainer());
    }
  }

  /** Each container's handler, for calling one directly (warm-up, overhead measurements). */
  handlers(): Handler[] {
    return this.containers.map((container) => container.handler);
  }

  get memoryMb(): number {
    return this.options.memoryMb ?? 256;
  }

  context(): Context {
    const deadline = Date.now() + this.options.timeoutSeconds * 1000;
    return {
      functionName: this.options.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${this.options.name}`,
      memoryLimitInMB: String(this.memoryMb),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.options.name}`,
      logStreamName: 'bench',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }

  /** Synchronous invoke: runs at once on a free container, or is answered 429 (Lambda's TooManyRequests). */
  async invoke(event: unknown): Promise<{ throttled: true } | { throttled: false; result: unknown }> {
    const container = await this.acquire();
    if (!container) {
      this.stats.rejected++;
      return { throttled: true };
    }
    try {
      return { throttled: false, result: await this.run(container, event) };
    } finally {
      if (this.options.invocationOverheadMs) await sleep(this.options.invocationOverheadMs);
      this.release(container);
    }
  }

  /** Asynchronous invoke: accepted at once, run when a container is free. */
  invokeAsync(event: unknown): void {
    const acceptedAt = Date.now();
    this.pendingAsync++;
    const attempt = async (throttles: number, errors: number): Promise<void> => {
      if (this.closed) return this.finishAsync();
      const container = await this.acquire();
      if (!container) {
        this.stats.throttledAttempts++;
        const { initialMs, maxMs } = this.options.throttleRetry ?? { initialMs: 1_000, maxMs: 300_000 };
        const ceiling = Math.min(maxMs, initialMs * 2 ** throttles);
        const random = this.options.random ?? Math.random;
        this.later(ceiling * (0.5 + random() / 2), () => attempt(throttles + 1, errors));
        return;
      }
      this.stats.maxQueueWaitMs = Math.max(this.stats.maxQueueWaitMs, Date.now() - acceptedAt);
      let failed = false;
      try {
        await this.run(container, event);
      } catch {
        failed = true;
      } finally {
        this.release(container);
      }
      if (!failed) return this.finishAsync();
      if (errors < (this.options.retryAttempts ?? 1)) {
        this.later(60_000 * (errors + 1), () => attempt(0, errors + 1));
        return;
      }
      this.stats.deadLettered++;
      this.deadLetters.push(event);
      this.finishAsync();
    };
    this.later(0, () => attempt(0, 0));
  }

  /** Resolves once every accepted async event has finished (or been dead-lettered). */
  idle(): Promise<void> {
    if (this.pendingAsync === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return this.pendingAsync > 0 || this.running > 0;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async acquire(): Promise<Container | undefined> {
    let container = this.containers.find((candidate) => !candidate.busy);
    if (!container) {
      if (this.containers.length + this.starting >= this.options.reservedConcurrency) return undefined;
      this.starting++;
      try {
        container = await this.startContainer();
        this.containers.push(container);
      } finally {
        this.starting--;
      }
    }
    container.busy = true;
    this.running++;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.running);
    return container;
  }

  private release(container: Container): void {
    container.busy = false;
    this.running--;
    this.notifyIdle();
  }

  private async run(container: Container, event: unknown): Promise<unknown> {
    this.stats.invocations++;
    const started = performance.now();
    const context = this.context();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stats.timeouts++;
        reject(new Error(`${this.options.name} timed out after ${this.options.timeoutSeconds} s`));
      }, this.options.timeoutSeconds * 1000);
    });
    try {
      return await Promise.race([container.handler(event, context), timeout]);
    } catch (error) {
      this.stats.errors++;
      throw error;
    } finally {
      clearTimeout(timer);
      this.stats.billedMs += Math.ceil(performance.now() - started);
    }
  }

  private async startContainer(): Promise<Container> {
    const id = ++instances;
    const url = `${pathToFileURL(this.options.bundle).href}?container=${id}`;
    const module = (await import(url)) as { handler: Handler };
    this.stats.containers++;
    return { id, handler: module.handler, busy: false };
  }

  private finishAsync(): void {
    this.pendingAsync--;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pendingAsync > 0 || this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private later(ms: number, action: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void action();
    }, ms);
    this.timers.add(timer);
  }
}
