import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { VerdictHistory } from '../core/history/verdict-history.js';
import { createElbApi } from '../core/routers/alb/client.js';
import { DescribeBudget } from '../core/routers/alb/describe-budget.js';
import { createRouters } from '../core/routers/index.js';
import { createClusterApis } from '../shared/clusters.js';
import { logger, metrics } from '../shared/powertools.js';
import { describeShare } from '../shared/verification-settings.js';
import { runSentinel, type SentinelReport } from './sentinel.js';
import { readSettings } from './settings.js';

/**
 * The drift sentinel, invoked by its EventBridge Scheduler schedule (the input is ignored): see
 * sentinel.ts. Its ELBv2 client is paced to its share of the account's Describe budget.
 */

const settings = readSettings();
const elb = createElbApi();
const budget = new DescribeBudget(describeShare(settings.DRIFT_DESCRIBE_SHARE, settings));
budget.pace(elb.client);
const clusters = createClusterApis(settings, {
  rbacHint:
    'the ClusterRole "rollout-verifier-observer" bound to the sentinel role\'s Kubernetes group (deploy/cluster/clusterroles.yaml)',
});
const routers = createRouters({ elb, kubeFor: clusters.forCluster });
const history = new VerdictHistory({
  client: new DynamoDBClient({}),
  tableName: settings.HISTORY_TABLE_NAME,
  retentionSeconds: settings.HISTORY_RETENTION_DAYS * 86_400,
});
const eventBridge = new EventBridgeClient({});

/**
 * Describe calls of one observation once discovery is cached: DescribeRules per listener and
 * DescribeTargetHealth per target group, about four for a two-listener ALB. Observations are
 * spaced so that the budget has refilled that much: an observation that waits for tokens past the
 * deadline would leave the verdict Inconclusive, never Failed.
 */
const CALLS_PER_OBSERVATION = 4;
const observationSpacingMs = Math.ceil((CALLS_PER_OBSERVATION / budget.ratePerSecond) * 1000);

export const handler = middy(async (_event: unknown, context: Context): Promise<SentinelReport> => {
  const report = await runSentinel({
    history,
    kubeFor: clusters.forCluster,
    routers,
    eventBridge,
    busName: settings.EVENT_BUS_NAME,
    verify: {
      deadlineSeconds: settings.VERIFY_DEADLINE_SECONDS,
      initialDelayMs: Math.max(settings.VERIFY_INITIAL_DELAY_MS, observationSpacingMs),
      maxDelayMs: Math.max(settings.VERIFY_MAX_DELAY_MS, observationSpacingMs),
    },
    intervalMs: settings.DRIFT_INTERVAL_SECONDS * 1000,
    watchAfterSettledMs: settings.DRIFT_WATCH_AFTER_SETTLED_SECONDS * 1000,
    timeLeftMs: () => context.getRemainingTimeInMillis(),
  });
  logger.info('sentinel run', { ...report, describeCalls: budget.taken, describeWaitMs: budget.waitedMs });
  return report;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
