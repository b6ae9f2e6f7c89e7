import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * Bearer tokens for the Kubernetes API of an EKS cluster, made the way `aws eks get-token` and
 * aws-iam-authenticator make them: `k8s-aws-v1.` + unpadded base64url of a presigned STS
 * GetCallerIdentity URL whose signature covers the header `x-k8s-aws-id: <cluster name>`.
 * The API server does not call STS with our credentials: it replays the URL, so the token proves
 * who we are to that one cluster only (the header binds it), for 15 minutes.
 *
 * What the authenticator's Verify enforces (kubernetes-sigs/aws-iam-authenticator,
 * pkg/token/token.go), and so what this module must produce:
 * - at most 4096 bytes, prefix `k8s-aws-v1.`, base64url WITHOUT padding (RawURLEncoding);
 * - scheme https, path `/`, host `sts.<region>.<partition domain>` of the cluster's partition
 *   (the global `sts.amazonaws.com` only in `aws`; we always use the regional endpoint);
 * - only Action, Version, X-Amz-{Algorithm,Credential,Date,Expires,Security-Token,Signature,
 *   SignedHeaders} as query parameters, each once (case-insensitively);
 * - Action=GetCallerIdentity, X-Amz-SignedHeaders listing x-k8s-aws-id,
 *   0 ≤ X-Amz-Expires ≤ 900, X-Amz-Date no older than 15 minutes whatever X-Amz-Expires says.
 */

/**
 * What signing needs. Structurally the SDK's `AwsCredentialIdentity`, so resolved SDK credentials
 * fit without importing a credentials package.
 */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; a URL they signed stops working then too. */
  expiration?: Date;
}

/**
 * Where fresh credentials come from. An SDK client's resolved `config.credentials` is one (it
 * memoizes and refreshes the function role's credentials), which is why no credential-provider
 * dependency is needed: `new EksTokenSource({ credentials: eksClient.config.credentials, … })`.
 */
export type CredentialsProvider = () => Promise<SigningCredentials>;

export interface EksToken {
  token: string;
  /** X-Amz-Date + 15 minutes, or earlier when the signing credentials expire first. */
  expiresAt: Date;
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** STS accepts a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date. */
export const EKS_TOKEN_VALIDITY_MS = 15 * 60_000;
/** The authenticator refuses longer tokens outright. */
export const MAX_EKS_TOKEN_LENGTH = 4096;
/**
 * STS ignores X-Amz-Expires for this call (the 15 minutes hold regardless); 60 is what every
 * client sends, because authenticators up to 0.3.0 accepted only 0–60 (later ones, up to 900).
 */
const PRESIGN_EXPIRES_SECONDS = 60;
/** Refresh this long before the end of validity, so a token is never sent in its last minute. */
const REFRESH_MARGIN_MS = 60_000;

export interface AwsPartition {
  id: string;
  /** The domain of the partition's regional STS endpoints: `sts.<region>.<stsDomain>`. */
  stsDomain: string;
}

// The partitions aws-iam-authenticator knows (pkg/endpoints/partitions.go), by region prefix.
// Order matters: the standard partition's pattern is the catch-all for two-letter prefixes.
const PARTITIONS: { regions: RegExp; partition: AwsPartition }[] = [
  { regions: /^cn-/, partition: { id: 'aws-cn', stsDomain: 'amazonaws.com.cn' } },
  { regions: /^us-gov-/, partition: { id: 'aws-us-gov', stsDomain: 'amazonaws.com' } },
  { regions: /^us-iso-/, partition: { id: 'aws-iso', stsDomain: 'c2s.ic.gov' } },
  { regions: /^us-isob-/, partition: { id: 'aws-iso-b', stsDomain: 'sc2s.sgov.gov' } },
  { regions: /^eu-isoe-/, partition: { id: 'aws-iso-e', stsDomain: 'cloud.adc-e.uk' } },
  { regions: /^us-isof-/, partition: { id: 'aws-iso-f', stsDomain: 'csp.hci.ic.gov' } },
  { regions: /^[a-z]{2}-[a-z]+-\d+$/, partition: { id: 'aws', stsDomain: 'amazonaws.com' } },
];

/** @smithy/hash-node exports a generic `Hash`; the signer wants a constructor taking only the key. */
const Sha256 = Hash.bind(null, 'sha256');

const REGION_SHAPE = /^[a-z]{2,}(?:-[a-z]+)+-\d+$/;

/** The partition a region belongs to; throws for a malformed region or one outside those partitions. */
export function awsPartitionOf(region: string): AwsPartition {
  // The region becomes part of a hostname: refuse anything that is not plainly a region name.
  const match = REGION_SHAPE.test(region)
    ? PARTITIONS.find(({ regions }) => regions.test(region))
    : undefined;
  if (!match) {
    throw new Error(`cannot make an EKS token for region ${JSON.stringify(region)}: not a known AWS region`);
  }
  return match.partition;
}

export interface CreateEksTokenOptions {
  clusterName: string;
  /** The region whose STS endpoint signs; any region of the cluster's partition works, its own is best. */
  region: string;
  credentials: SigningCredentials;
  /** Signing time (X-Amz-Date); injectable for tests. */
  now?: Date;
}

export async function createEksToken(options: CreateEksTokenOptions): Promise<EksToken> {
  const { clusterName, region, credentials } = options;
  if (clusterName.length === 0) throw new Error('cannot make an EKS token without a cluster name');
  const hostname = `sts.${region}.${awsPartitionOf(region).stsDomain}`;
  // X-Amz-Date has whole seconds; validity is measured from that, not from the milliseconds we had.
  const signingDate = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);

  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      // The signer signs exactly the headers present: host (which the SDK would normally add) and
      // the cluster name, which binds the token to that cluster.
      headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterName },
    }),
    { signingDate, expiresIn: PRESIGN_EXPIRES_SECONDS },
  );

  const url = `https://${hostname}/?${queryString(presigned.query ?? {})}`;
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  if (token.length > MAX_EKS_TOKEN_LENGTH) {
    // Only an unusually long session token gets here; the API server would answer 401 without a reason.
    throw new Error(
      `the EKS token for ${clusterName} would be ${token.length} bytes; the authenticator accepts at most ` +
        `${MAX_EKS_TOKEN_LENGTH} (the session token is too long)`,
    );
  }
  const validUntil = signingDate.getTime() + EKS_TOKEN_VALIDITY_MS;
  const credentialsEnd = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
  return { token, expiresAt: new Date(Math.min(validUntil, credentialsEnd)) };
}

/** RFC 3986 encoding, the same the signer applied when it built the canonical query. */
function queryString(query: Record<string, string | string[] | null>): string {
  return Object.entries(query)
    .flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v]) : [[key, value ?? '']]))
    .map(([key, value]) => `${rfc3986(key ?? '')}=${rfc3986(value ?? '')}`)
    .join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export interface EksTokenSourceOptions {
  /** A region, or a provider of one such as an SDK client's resolved `config.region`. */
  region: string | (() => Promise<string>);
  credentials: CredentialsProvider;
  clock?: () => Date;
}

interface CachedToken {
  token: string;
  refreshAtMs: number;
}

/**
 * Tokens per cluster, reused until a minute before they expire (at most ~14 minutes, as
 * `aws eks get-token` advertises): signing is cheap, but every call also resolves credentials.
 */
export class EksTokenSource {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly clock: () => Date;

  constructor(private readonly options: EksTokenSourceOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  async token(clusterName: string): Promise<string> {
    const cached = this.cache.get(clusterName);
    if (cached && this.clock().getTime() < cached.refreshAtMs) return cached.token;
    // Concurrent callers for one cluster share one signing. A failure is not cached.
    let pending = this.inflight.get(clusterName);
    if (!pending) {
      pending = this.sign(clusterName).finally(() => this.inflight.delete(clusterName));
      this.inflight.set(clusterName, pending);
    }
    return await pending;
  }

  /** Drops a cluster's token, e.g. after the API server answered 401 to it. */
  forget(clusterName: string): void {
    this.cache.delete(clusterName);
  }

  private async sign(clusterName: string): Promise<string> {
    const { region: regionOption } = this.options;
    const region = typeof regionOption === 'string' ? regionOption : await regionOption();
    const credentials = await this.options.credentials();
    const { token, expiresAt } = await createEksToken({
      clusterName,
      region,
      credentials,
      now: this.clock(),
    });
    this.cache.set(clusterName, { token, refreshAtMs: expiresAt.getTime() - REFRESH_MARGIN_MS });
    return token;
  }
}
