import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { logger } from '../shared/powertools.js';
import { FAST_CLIENT_OPTIONS } from './clients.js';
import { ClusterTokens } from './cluster-tokens.js';
import { buildIngestHandler } from './ingest.js';
import { readIngestSettings, tokenSecretsOf } from './settings.js';
import { SourceAllowList } from './source-allow-list.js';
import { TokenStore } from './token-store.js';

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
  tokens: new ClusterTokens(
    tokenSecretsOf(settings).map(({ cluster, secretArn }) => ({
      cluster,
      tokens: new TokenStore({
        client: secretsManager,
        secretId: secretArn,
        cacheTtlMs: settings.WEBHOOK_TOKEN_CACHE_SECONDS * 1000,
        rotationWindowMs: settings.WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES * 60_000,
        onWarning: (message) => logger.warn(message, { cluster }),
      }),
    })),
  ),
});
