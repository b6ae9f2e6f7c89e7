import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type CallbackOutcome, respondToVerdict } from '../core/callback/respond.js';
import { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { createClusterApis } from '../shared/clusters.js';
import { onceBy } from '../shared/idempotency.js';
import { invalidEvent, logger, metrics } from '../shared/powertools.js';
import { readSettings } from './settings.js';

// Built once per container: cluster endpoints, tokens and HTTPS connections outlive invocations.
const settings = readSettings();
const clusters = createClusterApis(settings, {
  rbacHint:
    'the ClusterRole "rollout-verifier" bound to the Kubernetes group "rollout-verifier" (deploy/cluster/clusterroles.yaml; patch on rollouts, for promote, comes with the Component deploy/cluster/promote)',
});
const policy = {
  abortOnFailure: settings.ON_FAILURE === 'abort',
  abortOnInconclusive: settings.ON_INCONCLUSIVE === 'abort',
  promoteOnSuccess: settings.ON_SUCCESS === 'promote',
  promoteInconclusiveAnalysis: false,
};

const OUTCOME_METRICS: Record<CallbackOutcome['action'], string> = {
  aborted: 'RolloutsAborted',
  promoted: 'RolloutsPromoted',
  none: 'CallbackNoAction',
  'rollout-gone': 'CallbackRolloutGone',
};

export const lambdaHandler = async (
  parsed: ParsedResult<unknown, VerdictEventDetail>,
  _context: Context,
): Promise<CallbackOutcome> => {
  if (!parsed.success) throw invalidEvent('InvalidVerdictEvents', 'verdict event', parsed.error.message);
  const verdict = parsed.data;
  logger.appendKeys({
    rollout: `${verdict.rollout.namespace}/${verdict.rollout.name}`,
    verdictId: verdict.verdictId,
    verdict: verdict.verdict,
  });
  try {
    const api = await clusters.forCluster(verdict.cluster);
    const outcome = await respondToVerdict(api, verdict, {
      policy,
      instance: settings.AWS_LAMBDA_FUNCTION_NAME,
      pauseSettleMs: settings.CALLBACK_PAUSE_SETTLE_MS,
    });
    metrics.addMetric(OUTCOME_METRICS[outcome.action], MetricUnit.Count, 1);
    if (outcome.ignoredAnnotations.length > 0) {
      logger.warn('policy annotations ignored', { annotations: outcome.ignoredAnnotations });
    }
    logger.info('verdict written back', { ...outcome });
    return outcome;
  } catch (error) {
    // Alarmed. Lambda retries and then dead-letters the verdict, so a fixed RBAC grant can redrive it.
    metrics.addMetric('CallbackErrors', MetricUnit.Count, 1);
    logger.error('verdict could not be written back', { error });
    throw error;
  }
};

// The verdictId is deterministic per rollout event: a redelivered verdict acts once.
const actOnce = onceBy({
  tableName: settings.STATE_TABLE_NAME,
  keyPath: 'detail.verdictId',
  writer: 'callback',
  ttlSeconds: settings.IDEMPOTENCY_TTL_SECONDS,
});

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(actOnce)
  .use(parser({ schema: VerdictEventDetail, envelope: EventBridgeEnvelope, safeParse: true }));
