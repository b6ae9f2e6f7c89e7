import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { logger } from '../shared/powertools.js';
import { FAST_CLIENT_OPTIONS } from './clients.js';
import { clusterTokensFrom } from './cluster-tokens.js';
import { buildIngestHandler } from './ingest.js';
import { readIngestSettings } from './settings.js';
import { SourceAllowList } from './source-allow-list.js';

/**
 * The Argo Rollouts notifications webhook (Lambda Function URL, auth NONE: the bearer token is
 * checked here, see ingest.ts for the request flow).
 */

// Built once per container: settings, SDK clients (kept-alive connections) and the token caches.
const settings = readIngestSettings();
const secretsManager = new SecretsManagerClient(FAST_CLIENT_OPTIONS);

export const handler = buildIngestHandler({
  settings,
  eventBridge: new EventBridgeClient(FAST_CLIENT_OPTIONS),
  ...(settings.ALLOWED_SOURCE_CIDRS.length > 0
    ? { allowedSources: new SourceAllowList(settings.ALLOWED_SOURCE_CIDRS) }
    : {}),
  tokens: clusterTokensFrom(settings, secretsManager, (message, context) => logger.warn(message, context)),
});
