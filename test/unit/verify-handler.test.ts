import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { metrics } from '../../lambdas/shared/powertools.js';
import { CHECKOUT_RULE, mockCheckoutAlb } from '../support/alb-mock.js';
import { eventBridgeEnvelope, rolloutEvent } from '../support/rollout-events.js';

process.env.EVENT_BUS_NAME = 'rollout-verifier';
process.env.VERIFY_INITIAL_DELAY_MS = '20';
process.env.VERIFY_MAX_DELAY_MS = '50';
process.env.VERIFY_PUBLISH_RESERVE_MS = '1000';

const elb = mockClient(ElasticLoadBalancingV2Client);
const events = mockClient(EventBridgeClient);
const albAt = (canary: number, stable: number) => mockCheckoutAlb(elb, { canary, stable });

const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'verify',
  awsRequestId: 'req-1',
} as unknown as Context;
let verifyHandler: typeof import('../../lambdas/verify/handler.js').handler;
/** The function receives raw EventBridge events; the parser middleware types only its output. */
const handler = (event: unknown, lambdaContext: Context) => verifyHandler(event as never, lambdaContext);

beforeAll(async () => {
  ({ handler: verifyHandler } = await import('../../lambdas/verify/handler.js'));
});

beforeEach(() => {
  elb.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
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

describe('verify handler', () => {
  it('publishes Succeeded when the ALB carries the expected split', async () => {
    albAt(20, 80);
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const result = await handler(eventBridgeEnvelope(rolloutEvent({ eventId: 'ok-1' })), context);
    expect(result).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Succeeded', attempts: 1 } });
    const [published] = publishedVerdicts();
    expect(published).toMatchObject({
      source: 'rollout-verifier.verify',
      detailType: 'Rollout Verification Succeeded',
      bus: 'rollout-verifier',
      detail: { eventId: 'ok-1', verdict: 'Succeeded', rollout: { namespace: 'shop', name: 'checkout' } },
    });
    expect(published?.detail.evidence?.routes[0]?.resource).toBe(CHECKOUT_RULE);
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(
      expect.arrayContaining(['VerificationSucceeded', 'TimeToVerdictMs', 'ElbApiCalls']),
    );
  });

  it('publishes Failed with the finding once the deadline passes on a wrong split', async () => {
    albAt(0, 100);
    const result = await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 'bad-1', deadlineSeconds: 1 })),
      context,
    );
    expect(result).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Failed', deadlineSeconds: 1 } });
    const [published] = publishedVerdicts();
    expect(published?.detailType).toBe('Rollout Verification Failed');
    expect(published?.detail.findings).toMatchObject([
      {
        code: 'WeightMismatch',
        resource: CHECKOUT_RULE,
        expected: 'canary 20 / stable 80',
        observed: 'canary 0 / stable 100',
      },
    ]);
    expect(published?.detail.attempts).toBeGreaterThan(1);
  });

  it('keeps the deadline inside what is left of the invocation', async () => {
    albAt(0, 100);
    const short = { ...context, getRemainingTimeInMillis: () => 2_500 } as Context;
    const result = await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 'cap-1', deadlineSeconds: 600 })),
      short,
    );
    expect(result).toMatchObject({ verdict: { deadlineSeconds: 1 } });
  });

  it('rejects an invalid event with its failing path and publishes nothing', async () => {
    const invalid = { ...rolloutEvent(), rollout: { ...rolloutEvent().rollout, name: 'Not_A_Name' } };
    await expect(handler(eventBridgeEnvelope(invalid), context)).rejects.toThrow(/rollout.*name|DNS-1123/);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(elb.calls()).toHaveLength(0);
  });

  it('skips an event older than one already verified for the rollout', async () => {
    albAt(20, 80);
    const rollout = { ...rolloutEvent().rollout, name: 'stale-check' };
    await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 's-2', rollout, step: { index: 2, count: 4 } })),
      context,
    );
    events.resetHistory();
    const result = await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 's-1', rollout, step: { index: 1, count: 4 } })),
      context,
    );
    expect(result).toEqual({ outcome: 'skipped', reason: 'a newer step or revision was already verified' });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('skips rollouts without traffic routing instead of judging them', async () => {
    const result = await handler(
      eventBridgeEnvelope(rolloutEvent({ eventId: 'n-1', traffic: { router: 'none' } })),
      context,
    );
    expect(result).toMatchObject({ outcome: 'skipped' });
    expect(elb.calls()).toHaveLength(0);
  });

  it('re-sends a verdict EventBridge rejected, and fails loudly if it never lands', async () => {
    albAt(20, 80);
    events
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    await handler(
      eventBridgeEnvelope(
        rolloutEvent({ eventId: 'retry-1', rollout: { ...rolloutEvent().rollout, name: 'r1' } }),
      ),
      context,
    );
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);

    events.reset();
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(
      handler(
        eventBridgeEnvelope(
          rolloutEvent({ eventId: 'retry-2', rollout: { ...rolloutEvent().rollout, name: 'r2' } }),
        ),
        context,
      ),
    ).rejects.toThrow(/EventBridge rejected 1 event/);
  });
});
