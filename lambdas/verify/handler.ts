import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { VERDICT_EVENT_SOURCE, verdictDetailType } from '../../contract/event-catalog.js';
import type { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { currentRolloutReader } from '../core/current-rollout.js';
import { NewestEvents } from '../core/newest-events.js';
import { createElbApi } from '../core/routers/alb/client.js';
import { DescribeBudget } from '../core/routers/alb/describe-budget.js';
import { createRouters } from '../core/routers/index.js';
import { configuredClusters, createClusterApis } from '../shared/clusters.js';
import { logger, metrics } from '../shared/powertools.js';
import { putEventsReliably } from '../shared/put-events.js';
import { InvalidDeliveryError, parseDelivery } from './delivery.js';
import { onceForDelivery } from './delivery-once.js';
import { type DeliveryOutcome, type LookDeps, lookAtDelivery } from './looks.js';
import { processRecords } from './partial-batch.js';
import { readDescribeShare, readSettings } from './settings.js';
import { recordVerdictMetrics } from './verdict-metrics.js';

// Built once per container: discovery cache, stale-event memory, SDK clients and the Describe
// budget outlive invocations.
const settings = readSettings();
const elb = createElbApi();
// The looks of one batch share their rule and target-health reads.
elb.shareConcurrentReads();
// Verify's share of the account's Describe budget, split among the containers that can run at once.
const describeBudget = new DescribeBudget(readDescribeShare());
describeBudget.pace(elb.client);
// With cluster access, IP-mode registrations are checked against the Services' EndpointSlices too.
const clusters =
  configuredClusters(settings).length > 0
    ? createClusterApis(settings, {
        rbacHint:
          'the ClusterRole "rollout-verifier-observer" bound to the Kubernetes group "rollout-verifier-observer" (deploy/cluster/clusterroles.yaml)',
      })
    : undefined;
// Mesh routes live in the cluster, and so does the Rollout itself: both only with cluster access.
const routers = createRouters({ elb, kubeFor: clusters?.forCluster });
const currentRollout = clusters ? currentRolloutReader(clusters.forCluster) : undefined;
const eventBridge = new EventBridgeClient({});
const sqs = new SQSClient({});
const newestEvents = new NewestEvents();
const once = onceForDelivery({
  tableName: settings.STATE_TABLE_NAME,
  ttlSeconds: settings.IDEMPOTENCY_TTL_SECONDS,
});

async function publish(verdict: VerdictEventDetail): Promise<void> {
  await putEventsReliably(eventBridge, [
    {
      EventBusName: settings.EVENT_BUS_NAME,
      Source: VERDICT_EVENT_SOURCE,
      DetailType: verdictDetailType(verdict.verdict),
      Detail: JSON.stringify(verdict),
      // EventBridge Resources are ARNs: mesh routes (virtualservice/…, mapping/…) stay in the detail.
      Resources: verdict.evidence?.routes
        .map((route) => route.resource)
        .filter((resource) => resource.startsWith('arn:'))
        .slice(0, 10),
    },
  ]);
}

/** What every look needs but the invocation's end: the same for every record of every invocation. */
const lookDeps: Omit<LookDeps, 'invocationEndsAt'> = {
  routers,
  verify: {
    deadlineSeconds: settings.VERIFY_DEADLINE_SECONDS,
    initialDelayMs: settings.VERIFY_INITIAL_DELAY_MS,
    maxDelayMs: settings.VERIFY_MAX_DELAY_MS,
    steadyLooks: settings.VERIFY_STEADY_LOOKS,
    // The shared ELBv2 budget: target health only once the weights match (and near the deadline).
    routesFirst: true,
    ...(currentRollout ? { currentRollout } : {}),
  },
  holdMs: settings.VERIFY_HOLD_MS,
  newestEvents,
  publish,
  requeue: async (continuation, delaySeconds) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: settings.VERIFY_QUEUE_URL,
        MessageBody: JSON.stringify(continuation),
        DelaySeconds: delaySeconds,
      }),
    );
  },
};

async function lookAtRecord(record: SQSRecord, context: Context): Promise<DeliveryOutcome> {
  let delivery: ReturnType<typeof parseDelivery>;
  try {
    delivery = parseDelivery(record.body);
  } catch (error) {
    // Left on the queue: after its receives it moves to the dead-letter queue, where it can be read.
    if (error instanceof InvalidDeliveryError) {
      metrics.addMetric('InvalidRolloutEvents', MetricUnit.Count, 1);
      logger.error('looks queue message failed validation', {
        messageId: record.messageId,
        issues: error.message,
      });
    }
    throw error;
  }
  const { event } = delivery;
  const outcome = await once(delivery, context, () =>
    lookAtDelivery(delivery, {
      ...lookDeps,
      invocationEndsAt: () =>
        Date.now() + context.getRemainingTimeInMillis() - settings.VERIFY_PUBLISH_RESERVE_MS,
    }),
  );
  const rollout = `${event.rollout.namespace}/${event.rollout.name}`;
  if (outcome.outcome === 'skipped') {
    metrics.addMetric('VerificationSkipped', MetricUnit.Count, 1);
    logger.info('event skipped', { rollout, eventId: event.eventId, reason: outcome.reason });
  } else if (outcome.outcome === 'verified') {
    recordVerdictMetrics(metrics, event, outcome.verdict);
    logger.info('verdict published', {
      rollout,
      eventId: event.eventId,
      verdict: outcome.verdict.verdict,
      findings: outcome.verdict.findings.map((finding) => finding.code),
      attempts: outcome.verdict.attempts,
      durationMs: outcome.verdict.durationMs,
    });
  }
  return outcome;
}

export const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // The budget's limits as the environment states them now (four variables, read per invocation).
  describeBudget.configure(readDescribeShare());
  const requestsBefore = elb.requestCount;
  try {
    return await processRecords(
      event.Records,
      (record) => lookAtRecord(record, context),
      (record, error) =>
        logger.error('looks queue message left on the queue', {
          messageId: record.messageId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    );
  } finally {
    // The batch's looks share requests: the count belongs to the invocation, not to one verification.
    metrics.addMetric('ElbApiCalls', MetricUnit.Count, elb.requestCount - requestsBefore);
  }
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
