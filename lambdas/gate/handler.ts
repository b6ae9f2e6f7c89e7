import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { VerdictHistory } from '../core/history/verdict-history.js';
import { createElbApi } from '../core/routers/alb/client.js';
import { createRouters } from '../core/routers/index.js';
import { FAST_CLIENT_OPTIONS } from '../ingest/clients.js';
import { clusterTokensFrom } from '../ingest/cluster-tokens.js';
import { configuredClusters, createClusterApis } from '../shared/clusters.js';
import { logger, metrics } from '../shared/powertools.js';
import { createGate } from './gate.js';
import { readSettings } from './settings.js';

/**
 * The analysis gate (Lambda Function URL, auth NONE: the clusters' webhook tokens are checked in
 * gate.ts). Argo's `web` metric provider calls it; see docs/analysis-gate.md.
 */

// Built once per container: token caches, SDK clients, cluster connections and discovery caches.
const settings = readSettings();
const secretsManager = new SecretsManagerClient(FAST_CLIENT_OPTIONS);
const clusters =
  configuredClusters(settings).length > 0
    ? createClusterApis(settings, {
        rbacHint:
          'the ClusterRole "rollout-verifier-observer" bound to the gate role\'s Kubernetes group (deploy/cluster/clusterroles.yaml)',
      })
    : undefined;
const routers = createRouters({ elb: createElbApi(), kubeFor: clusters?.forCluster });
let deadline = Date.now();

const gate = createGate({
  tokens: clusterTokensFrom(settings, secretsManager, (message, context) => logger.warn(message, context)),
  history: new VerdictHistory({
    client: new DynamoDBClient({}),
    tableName: settings.HISTORY_TABLE_NAME,
    retentionSeconds: settings.HISTORY_RETENTION_DAYS * 86_400,
  }),
  kubeFor: clusters?.forCluster,
  routers,
  verify: {
    deadlineSeconds: settings.VERIFY_DEADLINE_SECONDS,
    initialDelayMs: settings.VERIFY_INITIAL_DELAY_MS,
    maxDelayMs: settings.VERIFY_MAX_DELAY_MS,
  },
  timeLeftMs: () => deadline - Date.now(),
  waitForStoredMs: settings.GATE_STORED_VERDICT_WAIT_MS ?? settings.VERIFY_DEADLINE_SECONDS * 1000,
});

export const handler = middy(async (event: unknown, context: Context) => {
  deadline = Date.now() + context.getRemainingTimeInMillis() - settings.GATE_RESPONSE_RESERVE_MS;
  return await gate(event);
})
  // logEvent: false: the event holds the bearer token.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics));
