import { timingSafeEqual } from 'node:crypto';
import { digestOf, type TokenSource, type TokenStage, TokenStoreError } from './token-store.js';

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
