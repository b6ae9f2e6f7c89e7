import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { TRAFFIC_OBSERVED_EVENT_SOURCE, trafficObservedDetailType } from '../../contract/event-catalog.js';
import { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { createCloudWatch } from '../core/traffic/cloudwatch-reader.js';
import { lookWindow, readableAt } from '../core/traffic/look-window.js';
import { lookAtServedTraffic } from '../core/traffic/traffic-look.js';
import { logger, metrics } from '../shared/powertools.js';
import { putEventsReliably } from '../shared/put-events.js';
import { readSettings } from './settings.js';
import { recordTrafficMetrics } from './traffic-metrics.js';

/**
 * The traffic look: SQS delivers each Succeeded ALB configuration verdict (an EventBridge event)
 * once the step's window has closed and CloudWatch has had time to publish it — the queue's
 * delivery delay is window + publication delay, set by the construct from the same settings —
 * and the function reads the served split with one GetMetricData call and publishes a
 * traffic-observed event. Read-only: a redelivery publishes the same verdictId again, which
 * consumers dedupe on, and changes nothing.
 */

const settings = readSettings();
const cloudWatch = createCloudWatch();
const eventBridge = new EventBridgeClient({});

const QueuedVerdict = z.object({ detail: VerdictEventDetail });

/**
 * Where the verify function's per-Rollout verdict counters are: the construct gives every function
 * the same metrics namespace and service (lambdas/shared/powertools.ts reads the same variables).
 */
const VERIFY_METRICS = {
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'RolloutVerifier',
  service: process.env.POWERTOOLS_SERVICE_NAME ?? 'rollout-verifier',
};

export type TrafficLookRecordResult =
  | { outcome: 'observed'; verdict: string; verdictId: string }
  | { outcome: 'skipped'; reason: string };

export async function lookAtRecord(record: SQSRecord): Promise<TrafficLookRecordResult> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  const parsed = QueuedVerdict.safeParse(body);
  if (!parsed.success) {
    // Retrying cannot fix it: counted and logged, then dropped (no half-judged event is published).
    metrics.addMetric('InvalidTrafficLookMessages', MetricUnit.Count, 1);
    logger.error('queued verdict failed validation', {
      messageId: record.messageId,
      issues: parsed.error.message,
    });
    return { outcome: 'skipped', reason: 'invalid message' };
  }
  const verdict = parsed.data.detail;
  logger.appendKeys({
    rollout: `${verdict.rollout.namespace}/${verdict.rollout.name}`,
    eventId: verdict.eventId,
  });
  const decidedAt = Date.parse(verdict.decidedAt);
  const window = lookWindow(decidedAt, decidedAt + settings.TRAFFIC_WINDOW_SECONDS * 1000);
  const readable = readableAt(window, settings.TRAFFIC_PUBLICATION_DELAY_SECONDS);
  if (Date.now() < readable) {
    // Never expected (the queue's delay covers it); the result can then only lack data, never invent it.
    logger.warn('look delivered before its window is published', {
      readableAt: new Date(readable).toISOString(),
    });
  }
  const result = await lookAtServedTraffic(cloudWatch, verdict, {
    window,
    settings: { tolerance: settings.TRAFFIC_TOLERANCE, minRequests: settings.TRAFFIC_MIN_REQUESTS },
    region: await cloudWatch.config.region(),
    // The verify function's per-Rollout verdict counters: where the rollout moved on, the window ends.
    verdictCounters: VERIFY_METRICS,
  });
  if (result.outcome === 'skipped') {
    metrics.addMetric('TrafficLookSkipped', MetricUnit.Count, 1);
    logger.info('traffic look skipped', { reason: result.reason });
    return result;
  }
  const { detail } = result;
  await putEventsReliably(eventBridge, [
    {
      EventBusName: settings.EVENT_BUS_NAME,
      Source: TRAFFIC_OBSERVED_EVENT_SOURCE,
      DetailType: trafficObservedDetailType(detail.verdict),
      Detail: JSON.stringify(detail),
      Resources: [detail.loadBalancer, ...detail.sides.map((side) => side.resource)].slice(0, 10),
    },
  ]);
  recordTrafficMetrics(metrics, detail);
  logger.info('traffic-observed published', {
    verdict: detail.verdict,
    findings: detail.findings.map((finding) => finding.code),
    observedShare: detail.observedShare,
    configuredShare: detail.configuredShare,
    getMetricDataRequests: result.getMetricDataRequests,
  });
  return { outcome: 'observed', verdict: detail.verdict, verdictId: detail.verdictId };
}

/** Each record on its own: one that fails (CloudWatch or EventBridge unreachable) is retried alone. */
export const lambdaHandler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      await lookAtRecord(record);
    } catch (error) {
      logger.error('traffic look failed', { messageId: record.messageId, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
