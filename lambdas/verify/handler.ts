import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { VERDICT_EVENT_SOURCE, verdictDetailType } from '../../contract/event-catalog.js';
import { RolloutEventDetail } from '../core/contracts/rollout-event.js';
import type { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { currentRolloutReader } from '../core/current-rollout.js';
import { NewestEvents } from '../core/newest-events.js';
import { createElbApi } from '../core/routers/alb/client.js';
import { createRouters } from '../core/routers/index.js';
import { unverifiableReason, verifyRollout } from '../core/verify.js';
import { configuredClusters, createClusterApis } from '../shared/clusters.js';
import { onceBy } from '../shared/idempotency.js';
import { invalidEvent, logger, metrics } from '../shared/powertools.js';
import { putEventsReliably } from '../shared/put-events.js';
import { readSettings } from './settings.js';
import { recordVerdictMetrics } from './verdict-metrics.js';

// Built once per container: discovery cache, stale-event memory and SDK clients outlive invocations.
const settings = readSettings();
const elb = createElbApi();
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
const newestEvents = new NewestEvents();

export type VerifyResult =
  | { outcome: 'verified'; verdict: VerdictEventDetail }
  | { outcome: 'skipped'; reason: string };

export const lambdaHandler = async (
  parsed: ParsedResult<unknown, RolloutEventDetail>,
  context: Context,
): Promise<VerifyResult> => {
  if (!parsed.success) throw invalidEvent('InvalidRolloutEvents', 'rollout event', parsed.error.message);
  const event = parsed.data;
  logger.appendKeys({ rollout: `${event.rollout.namespace}/${event.rollout.name}`, eventId: event.eventId });

  const skip =
    unverifiableReason(event, routers) ??
    (newestEvents.isStale(event) ? 'a newer step or revision was already verified' : undefined);
  if (skip) {
    metrics.addMetric('VerificationSkipped', MetricUnit.Count, 1);
    logger.info('event skipped', { reason: skip });
    return { outcome: 'skipped', reason: skip };
  }
  newestEvents.record(event);

  const requestsBefore = elb.requestCount;
  const verdict = await verifyRollout(event, routers, {
    deadlineSeconds: settings.VERIFY_DEADLINE_SECONDS,
    deadlineCapSeconds: secondsLeftToVerify(context),
    initialDelayMs: settings.VERIFY_INITIAL_DELAY_MS,
    maxDelayMs: settings.VERIFY_MAX_DELAY_MS,
    steadyLooks: settings.VERIFY_STEADY_LOOKS,
    // The shared ELBv2 budget: target health only once the weights match (and near the deadline).
    routesFirst: true,
    ...(currentRollout ? { currentRollout } : {}),
  });
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
  recordVerdictMetrics(metrics, event, verdict, elb.requestCount - requestsBefore);
  logger.info('verdict published', {
    verdict: verdict.verdict,
    findings: verdict.findings.map((finding) => finding.code),
    attempts: verdict.attempts,
    durationMs: verdict.durationMs,
  });
  return { outcome: 'verified', verdict };
};

/** The verdict must be published before the function times out, whatever deadline was asked for. */
function secondsLeftToVerify(context: Context): number {
  return Math.floor((context.getRemainingTimeInMillis() - settings.VERIFY_PUBLISH_RESERVE_MS) / 1000);
}

// One verification per eventId (the dedup key ingest sets).
const verifyOnce = onceBy({
  tableName: settings.STATE_TABLE_NAME,
  keyPath: 'detail.eventId',
  writer: 'verify',
  ttlSeconds: settings.IDEMPOTENCY_TTL_SECONDS,
});

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(verifyOnce)
  .use(parser({ schema: RolloutEventDetail, envelope: EventBridgeEnvelope, safeParse: true }));
