import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

/**
 * Time spent in outgoing HTTP exchanges (the SDK's ELBv2 and EventBridge calls), from Node's
 * own `http.client.*` diagnostics channels: an exchange runs from `request.start` until its
 * response body has been read (`end`). Overlapping exchanges (calls made in parallel) count once:
 * what is measured is the wall time during which at least one exchange was open.
 */
export class HttpTimer {
  private intervals: Array<[number, number]> = [];
  private readonly started = new Map<ClientRequest, number>();
  private readonly onStart = (message: unknown) => {
    this.started.set((message as { request: ClientRequest }).request, performance.now());
  };
  private readonly onResponse = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    const finish = () => this.finish(request);
    response.once('end', finish);
    response.once('error', finish);
    response.once('close', finish);
  };
  private readonly onError = (message: unknown) =>
    this.finish((message as { request: ClientRequest }).request);

  constructor() {
    diagnosticsChannel.subscribe('http.client.request.start', this.onStart);
    diagnosticsChannel.subscribe('http.client.response.finish', this.onResponse);
    diagnosticsChannel.subscribe('http.client.request.error', this.onError);
  }

  /** Forget what was recorded (call before the section to measure). */
  reset(): void {
    this.intervals = [];
    this.started.clear();
  }

  /** Milliseconds during which at least one exchange was open since `reset()`. */
  openMs(): number {
    const sorted = [...this.intervals].sort((a, b) => a[0] - b[0]);
    let total = 0;
    let currentStart = Number.NEGATIVE_INFINITY;
    let currentEnd = Number.NEGATIVE_INFINITY;
    for (const [start, end] of sorted) {
      if (start > currentEnd) {
        if (currentEnd > currentStart) total += currentEnd - currentStart;
        currentStart = start;
        currentEnd = end;
      } else currentEnd = Math.max(currentEnd, end);
    }
    if (currentEnd > currentStart) total += currentEnd - currentStart;
    return total;
  }

  exchanges(): number {
    return this.intervals.length;
  }

  close(): void {
    diagnosticsChannel.unsubscribe('http.client.request.start', this.onStart);
    diagnosticsChannel.unsubscribe('http.client.response.finish', this.onResponse);
    diagnosticsChannel.unsubscribe('http.client.request.error', this.onError);
  }

  private finish(request: ClientRequest): void {
    const start = this.started.get(request);
    if (start === undefined) return;
    this.started.delete(request);
    this.intervals.push([start, performance.now()]);
  }
}
