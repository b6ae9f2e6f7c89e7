import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventPattern, matchesPattern } from './pattern.js';

export { type EventPattern, matchesPattern } from './pattern.js';

/** An event as EventBridge hands it to a rule target. */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface BusRule {
  name: string;
  pattern: EventPattern;
  /** Runs the target; a throw is recorded as a failed delivery (EventBridge would retry, then DLQ). */
  target: (event: DeliveredEvent) => Promise<unknown>;
}

export interface PutEventsRecord {
  bus: string;
  event: DeliveredEvent;
}

export interface EventBridgeSim {
  endpoint: string;
  /** Every event accepted, in order. */
  events(): PutEventsRecord[];
  addRule(rule: BusRule): void;
  /** Resolves when every delivery started so far has finished (deliveries run asynchronously, like the service). */
  drain(): Promise<void>;
  deliveryFailures(): Array<{ rule: string; event: DeliveredEvent; error: unknown }>;
  /** Reject the next `count` entries with an error code, as PutEvents does with FailedEntryCount. */
  failNextEntries(count: number, code?: string): void;
  close(): Promise<void>;
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number | string;
}

/**
 * EventBridge PutEvents on 127.0.0.1, speaking the awsJson1_1 protocol the real SDK v3 client
 * uses (POST, `X-Amz-Target: AWSEvents.PutEvents`), with rules that deliver matching events to
 * in-process targets — the same routing the deployed bus does with the stack's patterns.
 */
export async function startEventBridgeSim({
  region = 'eu-west-1',
  account = '123456789012',
}: {
  region?: string;
  account?: string;
} = {}): Promise<EventBridgeSim> {
  const accepted: PutEventsRecord[] = [];
  const rules: BusRule[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const failures: Array<{ rule: string; event: DeliveredEvent; error: unknown }> = [];
  let entriesToFail = 0;
  let failureCode = 'InternalFailure';

  const deliver = (event: DeliveredEvent) => {
    for (const rule of rules.filter((candidate) => matchesPattern(candidate.pattern, event as never))) {
      const delivery = rule
        .target(structuredClone(event))
        .catch((error: unknown) => {
          failures.push({ rule: rule.name, event, error });
        })
        .finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
      return reply(response, 400, {
        __type: 'UnknownOperationException',
        message: `the EventBridge simulator only answers AWSEvents.PutEvents, not ${String(target)}`,
      });
    }
    const { Entries = [] } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      Entries?: PutEventsEntry[];
    };
    const results = Entries.map((entry) => {
      if (entriesToFail > 0) {
        entriesToFail--;
        return { ErrorCode: failureCode, ErrorMessage: 'injected by the simulator' };
      }
      const event: DeliveredEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType ?? '',
        source: entry.Source ?? '',
        account,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region,
        resources: entry.Resources ?? [],
        detail: JSON.parse(entry.Detail ?? '{}'),
      };
      accepted.push({ bus: entry.EventBusName ?? 'default', event });
      deliver(event);
      return { EventId: event.id };
    });
    reply(response, 200, {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => reply(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    events: () => [...accepted],
    addRule: (rule) => rules.push(rule),
    drain: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    deliveryFailures: () => [...failures],
    failNextEntries: (count, code = 'InternalFailure') => {
      entriesToFail = count;
      failureCode = code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}
