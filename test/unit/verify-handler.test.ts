import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { metrics } from '../../lambdas/shared/powertools.js';
import { CHECKOUT_RULE, mockCheckoutAlb } from '../support/alb-mock.js';
import { eventBridgeEnvelope, rolloutEvent } from '../support/rollout-events.js';
import { LOOKS_QUEUE_URL, sqsEvent, sqsRecord } from '../support/sqs-events.js';

process.env.EVENT_BUS_NAME = 'rollout-verifier';
process.env.VERIFY_QUEUE_URL = LOOKS_QUEUE_URL;
process.env.VERIFY_LOOK_CONCURRENCY = '2';
process.env.VERIFY_INITIAL_DELAY_MS = '20';
process.env.VERIFY_MAX_DELAY_MS = '50';
process.env.VERIFY_HOLD_MS = '100';
process.env.VERIFY_PUBLISH_RESERVE_MS = '1000';
// The mocked ELBv2 answers in no time: a budget the tests cannot empty.
process.env.VERIFY_DESCRIBE_SHARE = '1';
process.env.ELB_DESCRIBE_RATE_PER_SECOND = '1000';
process.env.ELB_DESCRIBE_BURST = '1000';

const elb = mockClient(ElasticLoadBalancingV2Client);
const events = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const albAt = (canary: number, stable: number) => mockCheckoutAlb(elb, { canary, stable });

const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'verify',
  awsRequestId: 'req-1',
} as unknown as Context;
let verifyHandler: typeof import('../../lambdas/verify/handler.js').handler;
const handler = (event: unknown, lambdaContext: Context = context) =>
  verifyHandler(event as never, lambdaContext) as Promise<SQSBatchResponse>;
const deliver = (...bodies: unknown[]) =>
  handler(sqsEvent(...bodies.map((body, index) => sqsRecord(body, `m-${index}`))));

beforeAll(async () => {
  ({ handler: verifyHandler } = await import('../../lambdas/verify/handler.js'));
});

beforeEach(() => {
  elb.reset();
  events.reset();
  sqs.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });
  vi.restoreAllMocks();
});

function publishedVerdicts() {
  return events.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      source: entry.Source,
      detailType: entry.DetailType,
      bus: entry.EventBusName,
      detail: VerdictEventDetail.parse(JSON.parse(entry.Detail ?? '{}')),
    })),
  );
}

function requeued() {
  return sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
}

/** Delivers each continuation the handler sends back, as the queue would, until it sends none. */
async function followContinuations(limit = 200): Promise<number> {
  let deliveries = 0;
  for (;;) {
    const sent = requeued();
    sqs.resetHistory();
    if (sent.length === 0) return deliveries;
    for (const message of sent) {
      expect(await deliver(JSON.parse(message.MessageBody ?? ''))).toEqual({ batchItemFailures: [] });
      deliveries++;
    }
    if (deliveries > limit) throw new Error('the verification never ended');
  }
}

describe('verify handler (looks queue)', () => {
  it('publishes Succeeded when the ALB carries the expected split, and re-queues nothing', async () => {
    albAt(20, 80);
    const addMetric = vi.spyOn(metrics, 'addMetric');
    expect(await deliver(eventBridgeEnvelope(rolloutEvent({ eventId: 'ok-1' })))).toEqual({
      batchItemFailures: [],
    });
    const [published] = publishedVerdicts();
    expect(published).toMatchObject({
      source: 'rollout-verifier.verify',
      detailType: 'Rollout Verification Succeeded',
      bus: 'rollout-verifier',
      detail: {
        eventId: 'ok-1',
        verdict: 'Succeeded',
        attempts: 1,
        rollout: { namespace: 'shop', name: 'checkout' },
      },
    });
    expect(published?.detail.evidence?.routes[0]?.resource).toBe(CHECKOUT_RULE);
    expect(requeued()).toEqual([]);
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(
      expect.arrayContaining(['VerificationSucceeded', 'TimeToVerdictMs', 'ElbApiCalls']),
    );
  });

  it('sends a verification that must wait back to the queue with its state, and ends Failed at the deadline', async () => {
    albAt(0, 100);
    await deliver(eventBridgeEnvelope(rolloutEvent({ eventId: 'bad-1', deadlineSeconds: 1 })));
    expect(publishedVerdicts()).toEqual([]);
    const [first] = requeued();
    expect(first).toMatchObject({ QueueUrl: LOOKS_QUEUE_URL, DelaySeconds: 1 });
    const body = JSON.parse(first?.MessageBody ?? '');
    expect(body.continuation.event.eventId).toBe('bad-1');
    expect(body.continuation.state.attempts).toBeGreaterThan(1);
    // Looks that saw only wrong weights kept no observation they do not need.
    expect(body.continuation.state.records.length).toBeLessThanOrEqual(2);

    expect(await followContinuations()).toBeGreaterThan(0);
    const [published] = publishedVerdicts();
    expect(published?.detailType).toBe('Rollout Verification Failed');
    expect(published?.detail).toMatchObject({ deadlineSeconds: 1 });
    expect(published?.detail.findings).toMatchObject([
      {
        code: 'WeightMismatch',
        resource: CHECKOUT_RULE,
        expected: 'canary 20 / stable 80',
        observed: 'canary 0 / stable 100',
      },
    ]);
    expect(published?.detail.attempts).toBeGreaterThan(body.continuation.state.attempts);
  });

  it('goes on where the continuation left off and publishes Succeeded once the ALB converges', async () => {
    albAt(0, 100);
    await deliver(eventBridgeEnvelope(rolloutEvent({ eventId: 'late-1', deadlineSeconds: 30 })));
    const [continuation] = requeued();
    sqs.resetHistory();
    albAt(20, 80);
    await deliver(JSON.parse(continuation?.MessageBody ?? ''));
    const [published] = publishedVerdicts();
    expect(published?.detail).toMatchObject({ eventId: 'late-1', verdict: 'Succeeded', deadlineSeconds: 30 });
    expect(published?.detail.durationMs).toBeGreaterThan(0);
    expect(requeued()).toEqual([]);
  });

  it('verifies a deadline longer than the invocation: the deadline is no longer capped by the function timeout', async () => {
    albAt(20, 80);
    const short = { ...context, getRemainingTimeInMillis: () => 2_500 } as Context;
    await handler(
      sqsEvent(sqsRecord(eventBridgeEnvelope(rolloutEvent({ eventId: 'cap-1', deadlineSeconds: 600 })))),
      short,
    );
    expect(publishedVerdicts()[0]?.detail).toMatchObject({ verdict: 'Succeeded', deadlineSeconds: 600 });
  });

  it('reports an invalid rollout event as a failed item (for the dead-letter queue) and publishes nothing', async () => {
    const invalid = { ...rolloutEvent(), rollout: { ...rolloutEvent().rollout, name: 'Not_A_Name' } };
    const addMetric = vi.spyOn(metrics, 'addMetric');
    expect(await deliver(eventBridgeEnvelope(invalid))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-0' }],
    });
    expect(addMetric.mock.calls.map(([name]) => name)).toContain('InvalidRolloutEvents');
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(elb.calls()).toHaveLength(0);
  });

  it('refuses a tampered continuation and a body that is not JSON, item by item', async () => {
    albAt(20, 80);
    const tampered = {
      continuation: { event: rolloutEvent({ eventId: 't-1' }), state: { attempts: -1, records: [] } },
    };
    const result = await deliver(
      tampered,
      'not json',
      eventBridgeEnvelope(
        rolloutEvent({ eventId: 'fine-1', rollout: { ...rolloutEvent().rollout, name: 'fine' } }),
      ),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
    expect(publishedVerdicts().map((verdict) => verdict.detail.eventId)).toEqual(['fine-1']);
  });

  it('skips an event older than one already verified for the rollout', async () => {
    albAt(20, 80);
    const rollout = { ...rolloutEvent().rollout, name: 'stale-check' };
    await deliver(
      eventBridgeEnvelope(rolloutEvent({ eventId: 's-2', rollout, step: { index: 2, count: 4 } })),
    );
    events.resetHistory();
    const addMetric = vi.spyOn(metrics, 'addMetric');
    await deliver(
      eventBridgeEnvelope(rolloutEvent({ eventId: 's-1', rollout, step: { index: 1, count: 4 } })),
    );
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(addMetric.mock.calls.map(([name]) => name)).toContain('VerificationSkipped');
  });

  it('skips rollouts without traffic routing instead of judging them', async () => {
    expect(
      await deliver(eventBridgeEnvelope(rolloutEvent({ eventId: 'n-1', traffic: { router: 'none' } }))),
    ).toEqual({ batchItemFailures: [] });
    expect(elb.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it('looks at the verifications of one batch together: one DescribeRules, target health once per target group', async () => {
    albAt(20, 80);
    const bodies = ['a', 'b', 'c'].map((name) =>
      eventBridgeEnvelope(
        rolloutEvent({
          eventId: `batch-${name}`,
          rollout: { ...rolloutEvent().rollout, name: `batch-${name}` },
        }),
      ),
    );
    // Discovery first, so the batch below reads only what a look reads.
    for (const body of bodies) await deliver(body);
    elb.resetHistory();
    events.resetHistory();
    const again = ['a', 'b', 'c'].map((name) =>
      eventBridgeEnvelope(
        rolloutEvent({
          eventId: `batch-${name}-2`,
          rollout: { ...rolloutEvent().rollout, name: `batch-${name}` },
          step: { index: 2, count: 4 },
        }),
      ),
    );
    await deliver(...again);
    expect(publishedVerdicts().map((verdict) => verdict.detail.verdict)).toEqual([
      'Succeeded',
      'Succeeded',
      'Succeeded',
    ]);
    expect(elb.commandCalls(DescribeRulesCommand)).toHaveLength(1);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(2);
  });

  it('re-sends a verdict EventBridge rejected, and leaves the record on the queue if it never lands', async () => {
    albAt(20, 80);
    events
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    await deliver(
      eventBridgeEnvelope(
        rolloutEvent({ eventId: 'retry-1', rollout: { ...rolloutEvent().rollout, name: 'r1' } }),
      ),
    );
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);

    events.reset();
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    expect(
      await deliver(
        eventBridgeEnvelope(
          rolloutEvent({ eventId: 'retry-2', rollout: { ...rolloutEvent().rollout, name: 'r2' } }),
        ),
      ),
    ).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
  });
});
