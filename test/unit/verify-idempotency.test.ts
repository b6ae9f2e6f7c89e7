import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATE_KEY_PREFIXES } from '../../contract/state-table.js';
import { CHECKOUT_CANARY_TG, CHECKOUT_LB, CHECKOUT_STABLE_TG, mockCheckoutAlb } from '../support/alb-mock.js';
import { inMemoryIdempotencyTable } from '../support/idempotency-table.js';
import { eventBridgeEnvelope, rolloutEvent } from '../support/rollout-events.js';

process.env.EVENT_BUS_NAME = 'rollout-verifier';
process.env.STATE_TABLE_NAME = 'rollout-verifier-state';

const elb = mockClient(ElasticLoadBalancingV2Client);
const events = mockClient(EventBridgeClient);
const dynamo = mockClient(DynamoDBClient);

const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'verify',
  awsRequestId: 'req-1',
} as unknown as Context;
let verifyHandler: typeof import('../../lambdas/verify/handler.js').handler;
const handler = (event: unknown) => verifyHandler(event as never, context);

beforeAll(async () => {
  ({ handler: verifyHandler } = await import('../../lambdas/verify/handler.js'));
});

beforeEach(() => {
  elb.reset();
  events.reset();
  dynamo.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  mockCheckoutAlb(elb, { canary: 20, stable: 80 });
});

describe('verify handler: one verification per eventId', () => {
  it('verifies a duplicate delivery once and answers it with the stored result', async () => {
    const table = inMemoryIdempotencyTable(dynamo);
    const delivery = eventBridgeEnvelope(rolloutEvent({ eventId: 'dup-1' }));
    const first = await handler(delivery);
    const second = await handler({ ...delivery, id: 'another-eventbridge-id' });
    expect(first).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Succeeded' } });
    expect(second).toEqual(first);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect([...table.values()]).toMatchObject([{ status: 'COMPLETED' }]);
    // The only keys the verify role may write (dynamodb:LeadingKeys, lib/state-table.ts).
    expect([...table.keys()]).toEqual([expect.stringMatching(new RegExp(`^${STATE_KEY_PREFIXES.verify}#`))]);
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

    await expect(handler({ ...delivery, id: 'duplicate' })).rejects.toMatchObject({
      name: 'IdempotencyAlreadyInProgressError',
    });
    // Powertools 2.35's middleware would delete the running invocation's record here (#5675).
    expect([...table.values()]).toMatchObject([{ status: 'INPROGRESS' }]);

    publish();
    await expect(first).resolves.toMatchObject({ outcome: 'verified' });
    await expect(handler({ ...delivery, id: 'late-duplicate' })).resolves.toEqual(await first);
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
    await expect(handler(eventBridgeEnvelope(withoutCluster))).resolves.toMatchObject({
      outcome: 'verified',
    });
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
    await expect(handler(delivery)).rejects.toThrow('EventBridge is down');
    expect(table.size).toBe(0);
    await expect(handler(delivery)).resolves.toMatchObject({ outcome: 'verified' });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);
  });
});
