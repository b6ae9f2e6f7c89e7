import { createHash } from 'node:crypto';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** Tokens shorter than this are refused as a misconfiguration: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

export type TokenStage = 'AWSCURRENT' | 'AWSPREVIOUS';

/** A token version, kept only as its SHA-256 digest: every comparison is over 32 bytes. */
export interface KnownToken {
  stage: TokenStage;
  digest: Buffer;
  /**
   * AWSPREVIOUS after the rotation window: refused, but recognised, so that a cluster still
   * sending it is told apart from a stranger (it is losing its notifications).
   */
  expired: boolean;
}

/** Where the handler gets the token versions of one secret. */
export interface TokenSource {
  /** @throws TokenStoreError when the tokens cannot be read: the caller must answer 5xx, never accept. */
  knownTokens(): Promise<KnownToken[]>;
}

/** The webhook tokens could not be read (Secrets Manager error or an unusable secret value). */
export class TokenStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenStoreError';
  }
}

export interface TokenStoreOptions {
  client: SecretsManagerClient;
  secretId: string;
  /** How long fetched tokens are reused; 0 fetches on every call. */
  cacheTtlMs: number;
  /** AWSPREVIOUS is accepted until AWSCURRENT's CreatedDate plus this much; 0 never accepts it. */
  rotationWindowMs: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** Told when AWSPREVIOUS holds something unusable (it is then not accepted). */
  onWarning?: (message: string) => void;
}

interface Snapshot {
  fetchedAtMs: number;
  current: Buffer;
  /** AWSCURRENT's CreatedDate: the start of the rotation window. */
  currentCreatedMs: number | undefined;
  previous: Buffer | undefined;
}

/**
 * The webhook bearer tokens of one cluster, from one Secrets Manager secret, cached per container
 * with a TTL.
 *
 * Rotation: `put-secret-value` makes the new value AWSCURRENT and moves the old one to
 * AWSPREVIOUS. Both are accepted until AWSCURRENT's CreatedDate + the rotation window, so clusters
 * can be switched to the new token one by one; after the window only AWSCURRENT is accepted.
 * The window is evaluated on every call, not when the tokens were fetched, so a cached
 * AWSPREVIOUS stops working on time.
 */
export class TokenStore implements TokenSource {
  private snapshot: Snapshot | undefined;
  private inflight: Promise<Snapshot> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async knownTokens(): Promise<KnownToken[]> {
    const snapshot = await this.fresh();
    const tokens: KnownToken[] = [{ stage: 'AWSCURRENT', digest: snapshot.current, expired: false }];
    if (snapshot.previous) {
      tokens.push({
        stage: 'AWSPREVIOUS',
        digest: snapshot.previous,
        expired: !this.withinRotationWindow(snapshot),
      });
    }
    return tokens;
  }

  private withinRotationWindow(snapshot: Snapshot): boolean {
    // Without a CreatedDate there is no window to measure: only AWSCURRENT is accepted.
    if (snapshot.currentCreatedMs === undefined || this.options.rotationWindowMs <= 0) return false;
    return this.now() < snapshot.currentCreatedMs + this.options.rotationWindowMs;
  }

  private async fresh(): Promise<Snapshot> {
    const cached = this.snapshot;
    if (cached && this.now() - cached.fetchedAtMs < this.options.cacheTtlMs) return cached;
    // One fetch at a time: concurrent callers share it. A failure is not cached.
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return await this.inflight;
  }

  private async fetch(): Promise<Snapshot> {
    const fetchedAtMs = this.now();
    // Both in parallel: the refresh costs one round trip on the request that happens to do it.
    const [current, previous] = await Promise.all([
      this.read('AWSCURRENT'),
      this.read('AWSPREVIOUS').catch((error: unknown) => {
        // A secret that was never rotated has no AWSPREVIOUS: normal, nothing more to accept.
        if (isResourceNotFound(error)) return undefined;
        throw error;
      }),
    ]);
    if (!current) throw new TokenStoreError('the webhook token secret has no AWSCURRENT version');
    const currentToken = tokenOf(current);
    if (typeof currentToken === 'object') {
      throw new TokenStoreError(`the AWSCURRENT webhook token ${currentToken.problem}`);
    }
    const previousToken = previous ? tokenOf(previous) : undefined;
    if (typeof previousToken === 'object') {
      this.options.onWarning?.(`the AWSPREVIOUS webhook token ${previousToken.problem}: not accepted`);
    }
    const snapshot: Snapshot = {
      fetchedAtMs,
      current: digestOf(currentToken),
      currentCreatedMs: current.CreatedDate?.getTime(),
      previous: typeof previousToken === 'string' ? digestOf(previousToken) : undefined,
    };
    this.snapshot = snapshot;
    return snapshot;
  }

  private async read(stage: TokenStage): Promise<GetSecretValueCommandOutput | undefined> {
    try {
      return await this.options.client.send(
        new GetSecretValueCommand({ SecretId: this.options.secretId, VersionStage: stage }),
      );
    } catch (error) {
      if (stage === 'AWSPREVIOUS' && isResourceNotFound(error)) throw error;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new TokenStoreError(`cannot read the ${stage} webhook token: ${reason}`, { cause: error });
    }
  }
}

/** The token in a version: the whole SecretString, surrounding whitespace removed. */
function tokenOf(version: GetSecretValueCommandOutput): string | { problem: string } {
  if (typeof version.SecretString !== 'string') return { problem: 'is not a SecretString' };
  const token = version.SecretString.trim();
  if (token.length < MIN_TOKEN_LENGTH) return { problem: `is shorter than ${MIN_TOKEN_LENGTH} characters` };
  if (/\s/.test(token)) return { problem: 'contains whitespace (a bearer token cannot)' };
  return token;
}

export function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function isResourceNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}
