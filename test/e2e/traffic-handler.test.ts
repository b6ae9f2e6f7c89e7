import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAFFIC_OBSERVED_EVENT_SOURCE } from '../../contract/event-catalog.js';
import { TrafficObservedEventDetail } from '../../lambdas/core/contracts/traffic-observed-event.js';
import type { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { type CloudWatchSim, putAlbMinute, startCloudWatchSim } from '../../sim/cloudwatch.js';
import { type EventBridgeSim, startEventBridgeSim } from '../../sim/eventbridge/index.js';
import { verdictDetail } from '../support/verdicts.js';

/**
 * The traffic function as Lambda runs it: an SQS batch of queued EventBridge events, the real
 * CloudWatch and EventBridge clients over HTTP to the loopback simulators.
 */

const ACCOUNT = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const LB = `${ACCOUNT}:loadbalancer/app/k8s-shop-checkout/0a1b2c3d4e5f6a7b`;
const RULE = `${ACCOUNT}:listener-rule/app/k8s-shop-checkout/0a1b2c3d4e5f6a7b/1111111111111111/2222222222222222`;
const CANARY = `${ACCOUNT}:targetgroup/k8s-shop-checkoutc-1234567890/aaaaaaaaaaaaaaaa`;
const STABLE = `${ACCOUNT}:targetgroup/k8s-shop-checkouts-1234567890/bbbbbbbbbbbbbbbb`;
const MINUTE = 60_000;

let cloudwatch: CloudWatchSim;
let bus: EventBridgeSim;
let handler: typeof import('../../lambdas/traffic/handler.js').handler;
const context = {
  getRemainingTimeInMillis: () => 30_000,
  functionName: 'traffic',
  awsRequestId: 'r',
} as Context;

beforeAll(async () => {
  [cloudwatch, bus] = await Promise.all([startCloudWatchSim(), startEventBridgeSim()]);
  process.env.EVENT_BUS_NAME = 'rollout-verifier';
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudwatch.endpoint;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  process.env.TRAFFIC_WINDOW_SECONDS = '300';
  ({ handler } = await import('../../lambdas/traffic/handler.js'));
});

afterAll(async () => {
  await Promise.all([cloudwatch.close(), bus.close()]);
});

/** A Succeeded ALB verdict decided 10 minutes ago, with 5 served minutes after it. */
function verdictServed(canary: number, stable: number, name: string): VerdictEventDetail {
  const decidedAt = Math.floor((Date.now() - 10 * MINUTE) / MINUTE) * MINUTE + 3_000;
  const verdict = verdictDetail({
    decidedAt: new Date(decidedAt).toISOString(),
    verdictId: `verdict-${name}`,
    evidence: {
      routes: [
        {
          resource: RULE,
          description: 'HTTP:80',
          destinations: [
            { resource: CANARY, role: 'canary', weight: 20 },
            { resource: STABLE, role: 'stable', weight: 80 },
          ],
        },
      ],
      backends: [],
    },
  });
  cloudwatch.clear();
  for (let minute = 1; minute <= 5; minute++) {
    const at = decidedAt + minute * MINUTE - 3_000;
    putAlbMinute(cloudwatch, LB, CANARY, { at, requests: canary });
    putAlbMinute(cloudwatch, LB, STABLE, { at, requests: stable });
  }
  return verdict;
}

const sqsEvent = (...bodies: string[]): SQSEvent =>
  ({
    Records: bodies.map((body, index) => ({ messageId: `m-${index}`, body, eventSource: 'aws:sqs' })),
  }) as SQSEvent;
const envelope = (detail: unknown) =>
  JSON.stringify({ version: '0', id: 'e', 'detail-type': 'Rollout Verification Succeeded', detail });

describe('the traffic function', () => {
  it('publishes one traffic-observed event per look, from one GetMetricData call', async () => {
    const verdict = verdictServed(60, 540, 'skewed');
    const before = bus.events().length;
    const callsBefore = cloudwatch.calls.length;
    const answer = await handler(sqsEvent(envelope(verdict)), context);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.calls.slice(callsBefore).map((call) => call.operation)).toEqual(['GetMetricData']);
    const published = bus.events().slice(before);
    expect(published.map((record) => [record.event.source, record.event['detail-type']])).toEqual([
      [TRAFFIC_OBSERVED_EVENT_SOURCE, 'Rollout Traffic Observed Failed'],
    ]);
    const detail = TrafficObservedEventDetail.parse(published[0]?.event.detail);
    expect(detail).toMatchObject({ verdictId: 'verdict-skewed/traffic-observed', observedShare: 0.1 });
    expect(detail.findings.map((finding) => finding.code)).toEqual(['ObservedSplitMismatch']);
  });

  it('drops what it cannot judge without retrying it: an invalid message, a mesh verdict', async () => {
    const before = bus.events().length;
    const answer = await handler(
      sqsEvent(
        'not json',
        envelope({ verdict: 'Succeeded' }),
        envelope(verdictDetail({ traffic: { router: 'istio' } })),
      ),
      context,
    );
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(bus.events().length).toBe(before);
  });

  it('hands back only the record it could not publish: SQS retries that one', async () => {
    const verdict = verdictServed(120, 480, 'healthy');
    bus.failNextEntries(10, 'InternalFailure');
    const answer = await handler(
      sqsEvent(envelope(verdict), envelope(verdictDetail({ traffic: { router: 'istio' } }))),
      context,
    );
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
  });
});
