import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATE_KEY_PREFIXES } from '../../contract/state-table.js';
import { CHECKOUT_CANARY_TG, CHECKOUT_LB, CHECKOUT_STABLE_TG, mockCheckoutAlb } from '../support/alb-mock.js';
import { inMemoryIdempotencyTable } from '../support/idempotency-table.js';
import { eventBridgeEnvelope, rolloutEvent } from '../support/rollout-events.js';
import { LOOKS_QUEUE_URL, sqsEvent, sqsRecord } from '../support/sqs-events.js';

process.env.EVENT_BUS_NAME = 'rollout-verifier';
process.env.STATE_TABLE_NAME = 'rollout-verifier-state';
process.env.VERIFY_QUEUE_URL = LOOKS_QUEUE_URL;
process.env.VERIFY_HOLD_MS = '0';

const elb = mockClient(ElasticLoadBalancingV2Client);
const events = mockClient(EventBridgeClient);
const dynamo = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'verify',
  awsRequestId: 'req-1',
} as unknown as Context;
let verifyHandler: typeof import('../../lambdas/verify/handler.js').handler;
/** One delivery of the looks queue (its own message id), answered with the batch response. */
const handler = (body: unknown, messageId = 'm-1') =>
  verifyHandler(sqsEvent(sqsRecord(body, messageId)) as never, context) as Promise<SQSBatchResponse>;
const OK = { batchItemFailures: [] };

beforeAll(async () => {
  ({ handler: verifyHandler } = await import('../../lambdas/verify/handler.js'));
});

beforeEach(() => {
  elb.reset();
  events.reset();
  dynamo.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  mockCheckoutAlb(elb, { canary: 20, stable: 80 });
});

describe('verify handler: one verification per eventId', () => {
  it('verifies a duplicate delivery once and answers it with the stored result', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    const delivery = eventBridgeEnvelope(rolloutEvent({ eventId: 'dup-1' }));
    expect(await handler(delivery)).toEqual(OK);
    elb.resetHistory();
    expect(await handler({ ...delivery, id: 'another-eventbridge-id' }, 'm-2')).toEqual(OK);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(elb.calls()).toHaveLength(0);
    expect([...table.values()]).toMatchObject([{ status: 'COMPLETED' }]);
    // The only keys the verify role may write (dynamodb:LeadingKeys, lib/state-table.ts).
    expect([...table.keys()]).toEqual([expect.stringMatching(new RegExp(`^${STATE_KEY_PREFIXES.verify}#`))]);
  });

  it('tracks only the start: a continuation looks again whenever it is delivered (a second chain publishes the same verdictId)', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    mockCheckoutAlb(elb, { canary: 0, stable: 100 });
    const rollout = { ...rolloutEvent().rollout, name: 'waiting' };
    expect(await handler(eventBridgeEnvelope(rolloutEvent({ eventId: 'wait-1', rollout })))).toEqual(OK);
    const [sent] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    const continuation = JSON.parse(sent?.MessageBody ?? '');
    sqs.resetHistory();
    elb.resetHistory();
    expect(await handler(continuation, 'c-1')).toEqual(OK);
    const looks = elb.calls().length;
    expect(looks).toBeGreaterThan(0);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    // SQS delivered the same continuation again: it looks again and waits again; nothing written for it.
    expect(await handler(continuation, 'c-2')).toEqual(OK);
    expect(elb.calls().length).toBeGreaterThan(looks);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(2);
    expect([...table.values()].map((record) => record.status)).toEqual(['COMPLETED']);
  });

  it('verifies different eventIds separately', async () => {
    inMemoryIdempotencyTable(dynamo);
    const rollout = { ...rolloutEvent().rollout, name: 'other' };
    await handler(eventBridgeEnvelope(rolloutEvent({ eventId: 'a-1', rollout })));
    await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 'a-2', rollout, step: { index: 2, count: 4 } })),
    );
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('a duplicate arriving while the first delivery runs is refused without erasing that run’s record', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    const rollout = { ...rolloutEvent().rollout, name: 'concurrent' };
    const delivery = eventBridgeEnvelope(rolloutEvent({ eventId: 'concurrent-1', rollout }));
    // The first delivery is still verifying: its PutEvents has not answered yet.
    let publish: () => void = () => undefined;
    events.reset();
    events.on(PutEventsCommand).callsFake(
      () =>
        new Promise((resolve) => {
          publish = () => resolve({ FailedEntryCount: 0, Entries: [{ EventId: 'e-3' }] });
        }),
    );
    const first = handler(delivery);
    await vi.waitFor(() => expect(events.commandCalls(PutEventsCommand)).toHaveLength(1));

    // A duplicate of a running delivery: dropped (the running one's own message stays on the queue
    // until it succeeds), nothing looked at, nothing published.
    const looksBefore = elb.calls().length;
    await expect(handler({ ...delivery, id: 'duplicate' }, 'm-2')).resolves.toEqual(OK);
    expect(elb.calls()).toHaveLength(looksBefore);
    expect([...table.values()]).toMatchObject([{ status: 'INPROGRESS' }]);

    publish();
    await expect(first).resolves.toEqual(OK);
    await expect(handler({ ...delivery, id: 'late-duplicate' }, 'm-3')).resolves.toEqual(OK);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('stores a verdict without optional parts (no cluster, no region): nothing undefined reaches DynamoDB', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    const { cluster: _cluster, ...withoutCluster } = rolloutEvent({
      eventId: 'no-cluster-1',
      rollout: { ...rolloutEvent().rollout, name: 'clusterless' },
      // Without a cluster the load balancer is found from the ARNs Argo recorded.
      traffic: {
        router: 'alb',
        ingresses: [
          {
            ingress: 'checkout',
            loadBalancerArn: CHECKOUT_LB,
            stableTargetGroupArn: CHECKOUT_STABLE_TG,
            canaryTargetGroupArn: CHECKOUT_CANARY_TG,
          },
        ],
        stableService: 'checkout',
        canaryService: 'checkout-canary',
        servicePort: 80,
      },
      deadlineSeconds: 2,
    });
    await expect(handler(eventBridgeEnvelope(withoutCluster))).resolves.toEqual(OK);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect([...table.values()]).toMatchObject([{ status: 'COMPLETED' }]);
  });

  it('forgets a failed attempt so the retry verifies again', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    events.reset();
    events
      .on(PutEventsCommand)
      .rejectsOnce(new Error('EventBridge is down'))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    const rollout = { ...rolloutEvent().rollout, name: 'retried' };
    const delivery = eventBridgeEnvelope(rolloutEvent({ eventId: 'retry-1', rollout }));
    await expect(handler(delivery)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(table.size).toBe(0);
    await expect(handler(delivery)).resolves.toEqual(OK);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);
  });
});
