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
 * - Reserved concurrency caps the containers. An invoke (the Function URL, or the looks queue's
 *   event source) finding none free is answered 429.
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
  /**
   * How long a container stays taken after its handler returns: the Lambda runtime's round trips
   * (response, next invocation) that in-process calls skip. 0 (default) for the scenarios that
   * measure the handlers; the flood sets a floor on it, because how many requests 5 containers can
   * turn away per second is exactly what a flood is about.
   */
  invocationOverheadMs?: number;
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
  /** Invokes answered 429. */
  rejected: number;
  errors: number;
  timeouts: number;
  containers: number;
  /** The most invocations running at once. */
  peakConcurrency: number;
  /** Wall time of every invocation, each rounded up to the millisecond as Lambda bills it. */
  billedMs: number;
}

let instances = 0;

export class FunctionModel {
  readonly stats: FunctionStats = {
    invocations: 0,
    rejected: 0,
    errors: 0,
    timeouts: 0,
    containers: 0,
    peakConcurrency: 0,
    billedMs: 0,
  };
  private readonly containers: Container[] = [];
  private running = 0;
  private starting = 0;
  private idleWaiters: Array<() => void> = [];

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

  /** Runs at once on a free container, or is answered 429 (Lambda's TooManyRequests). */
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

  /** Resolves once no invocation runs. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return this.running > 0;
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

  private notifyIdle(): void {
    if (this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
