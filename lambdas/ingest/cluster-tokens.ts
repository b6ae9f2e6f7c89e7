import { timingSafeEqual } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type IngestSettings, tokenSecretsOf } from './settings.js';
import { digestOf, type TokenSource, type TokenStage, TokenStore, TokenStoreError } from './token-store.js';

/**
 * Tokens bound to clusters: each cluster's notifications carry that cluster's own token (its own
 * Secrets Manager secret, rotated on its own), and a token speaks for its cluster only. A binding
 * without a cluster is the unbound token of a stack that names no cluster: its events carry none.
 */
export interface TokenBinding {
  cluster: string | undefined;
  tokens: TokenSource;
}

/** A version of some cluster's token that the presented token equals. */
export interface TokenMatch {
  cluster: string | undefined;
  stage: TokenStage;
  /** AWSPREVIOUS after the rotation window: recognised, not accepted. */
  expired: boolean;
}

export interface TokenLookup {
  matches: TokenMatch[];
  /** Bindings whose tokens could not be read: a token that matches nothing else may be theirs. */
  unreadable: Array<{ cluster: string | undefined; error: TokenStoreError }>;
}

export interface ClusterTokenSource {
  lookup(token: string): Promise<TokenLookup>;
}

export class ClusterTokens implements ClusterTokenSource {
  constructor(private readonly bindings: readonly TokenBinding[]) {
    if (bindings.length === 0) throw new Error('no webhook token is configured');
  }

  /**
   * Every version of every cluster's token compared with the presented one in constant time:
   * SHA-256 digests make the lengths equal, and no comparison is skipped, so timing tells neither
   * which cluster or version matched nor whether one did.
   */
  async lookup(token: string): Promise<TokenLookup> {
    const presented = digestOf(token);
    const read = await Promise.all(
      this.bindings.map(async ({ cluster, tokens }) => {
        try {
          return { cluster, known: await tokens.knownTokens() };
        } catch (error) {
          if (!(error instanceof TokenStoreError)) throw error;
          return { cluster, error };
        }
      }),
    );
    const lookup: TokenLookup = { matches: [], unreadable: [] };
    for (const entry of read) {
      if (entry.error) {
        lookup.unreadable.push({ cluster: entry.cluster, error: entry.error });
        continue;
      }
      for (const version of entry.known ?? []) {
        if (timingSafeEqual(presented, version.digest)) {
          lookup.matches.push({ cluster: entry.cluster, stage: version.stage, expired: version.expired });
        }
      }
    }
    return lookup;
  }
}

/**
 * The webhook tokens of every cluster the settings name, each read from its own secret and cached:
 * what the ingest endpoint and the analysis gate both authenticate with.
 */
export function clusterTokensFrom(
  settings: Pick<
    IngestSettings,
    | 'WEBHOOK_TOKEN_SECRET_ARNS'
    | 'WEBHOOK_TOKEN_SECRET_ARN'
    | 'CLUSTER_NAME'
    | 'WEBHOOK_TOKEN_CACHE_SECONDS'
    | 'WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES'
  >,
  client: SecretsManagerClient,
  warn: (message: string, context: { cluster: string | undefined }) => void,
): ClusterTokens {
  return new ClusterTokens(
    tokenSecretsOf(settings).map(({ cluster, secretArn }) => ({
      cluster,
      tokens: new TokenStore({
        client,
        secretId: secretArn,
        cacheTtlMs: settings.WEBHOOK_TOKEN_CACHE_SECONDS * 1000,
        rotationWindowMs: settings.WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES * 60_000,
        onWarning: (message) => warn(message, { cluster }),
      }),
    })),
  );
}
