import { X509Certificate } from 'node:crypto';
import { type Cluster, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ClusterName } from '../contracts/cluster-name.js';
import { awsPartitionOf, EksTokenSource } from './eks-token.js';

/** Everything needed to call one cluster's Kubernetes API. */
export interface ClusterConnection {
  name: string;
  /** The API server's https URL, without a trailing slash. */
  server: string;
  /** The CA certificate(s), PEM, to trust for `server` (and nothing else). */
  caPem: string;
  /** The bearer token; ask per request: EKS tokens live 15 minutes and are renewed behind this. */
  token(): Promise<string>;
}

export type ClusterAccessErrorKind =
  | 'AccessDenied'
  | 'NotFound'
  | 'NotActive'
  | 'InvalidConfiguration'
  | 'Unavailable';

/** A cluster could not be reached from here; the message says what to fix. Never contains a token. */
export class ClusterAccessError extends Error {
  override readonly name = 'ClusterAccessError';

  constructor(
    readonly kind: ClusterAccessErrorKind,
    readonly cluster: string,
    message: string,
    options?: { cause?: unknown; missingPermission?: string },
  ) {
    super(message, { cause: options?.cause });
    this.missingPermission = options?.missingPermission;
  }

  /** For AccessDenied: the IAM action the function role lacks (`eks:DescribeCluster`, …). */
  readonly missingPermission: string | undefined;
}

export interface ClusterConnectionsOptions {
  /** Default: a client for `region`, made on first use (a secrets-only caller never needs one). */
  eks?: EKSClient;
  /** Default: a client for `region`, made on first use (an EKS-only caller never needs one). */
  secretsManager?: SecretsManagerClient;
  /**
   * Clusters that are not EKS: cluster name → ARN of a Secrets Manager secret holding
   * `{"server": "https://…", "certificateAuthorityData": "<base64 PEM>", "token": "<bearer token>"}`.
   * Every other name is looked up with eks:DescribeCluster.
   */
  secretArns?: Record<string, string>;
  /** Injectable for tests; also drives the EKS token cache. */
  clock?: () => Date;
  /** Region of the default clients; default: the SDK's own (AWS_REGION). */
  region?: string;
}

/** Endpoints and CAs change only when a cluster is recreated; re-reading them every 10 minutes is plenty. */
export const EKS_CLUSTER_TTL_MS = 10 * 60_000;
/** Short enough that a rotated token in a secret is picked up before the old one is revoked, typically. */
export const SECRET_CLUSTER_TTL_MS = 5 * 60_000;

/** An UPDATING cluster (a version upgrade, a config change) keeps serving its API. */
const USABLE_STATUSES = new Set(['ACTIVE', 'UPDATING']);

interface Cached {
  connection: ClusterConnection;
  expiresAtMs: number;
}

/**
 * Turns a cluster name into a connection: EKS clusters through eks:DescribeCluster and a token
 * signed with this function's own credentials; other clusters through a secret. Cached per
 * container; concurrent callers for one cluster share one lookup, and a failure is not cached.
 */
export class ClusterConnections {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<ClusterConnection>>();
  private readonly secretArns: ReadonlyMap<string, string>;
  private readonly clock: () => Date;
  private eksClient: EKSClient | undefined;
  private secretsClient: SecretsManagerClient | undefined;
  private eksTokens: EksTokenSource | undefined;

  constructor(private readonly options: ClusterConnectionsOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.eksClient = options.eks;
    this.secretsClient = options.secretsManager;
    // A mapping under a name no lookup can ever pass is a configuration mistake: say so at start-up.
    for (const [name, arn] of Object.entries(options.secretArns ?? {})) {
      checkClusterName(name);
      if (arn.trim().length === 0) {
        throw new ClusterAccessError(
          'InvalidConfiguration',
          name,
          `cluster "${name}" is mapped to an empty secret ARN`,
        );
      }
    }
    this.secretArns = new Map(Object.entries(options.secretArns ?? {}));
  }

  /** @throws ClusterAccessError */
  async connect(clusterName: string): Promise<ClusterConnection> {
    checkClusterName(clusterName);
    const cached = this.cache.get(clusterName);
    if (cached && this.clock().getTime() < cached.expiresAtMs) return cached.connection;
    let pending = this.inflight.get(clusterName);
    if (!pending) {
      pending = this.load(clusterName).finally(() => this.inflight.delete(clusterName));
      this.inflight.set(clusterName, pending);
    }
    return await pending;
  }

  /** Forgets what is cached for a cluster, e.g. after its API server answered 401. */
  forget(clusterName: string): void {
    this.cache.delete(clusterName);
    this.eksTokens?.forget(clusterName);
  }

  private async load(clusterName: string): Promise<ClusterConnection> {
    const startedMs = this.clock().getTime();
    const secretArn = this.secretArns.get(clusterName);
    const connection = secretArn
      ? await this.fromSecret(clusterName, secretArn)
      : await this.fromEks(clusterName);
    const ttl = secretArn ? SECRET_CLUSTER_TTL_MS : EKS_CLUSTER_TTL_MS;
    this.cache.set(clusterName, { connection, expiresAtMs: startedMs + ttl });
    return connection;
  }

  private async fromEks(name: string): Promise<ClusterConnection> {
    const eks = this.eks();
    const region = await eks.config.region().catch((error: unknown) => {
      throw new ClusterAccessError(
        'InvalidConfiguration',
        name,
        `no AWS region to look up EKS cluster "${name}" in: set AWS_REGION or the region option`,
        { cause: error },
      );
    });
    let cluster: Cluster | undefined;
    try {
      ({ cluster } = await eks.send(new DescribeClusterCommand({ name })));
    } catch (error) {
      throw describeClusterError(error, name, region);
    }
    if (!cluster) throw notFound(name, region);
    if (!cluster.status || !USABLE_STATUSES.has(cluster.status)) {
      throw new ClusterAccessError(
        'NotActive',
        name,
        `EKS cluster "${name}" in ${region} is ${cluster.status ?? 'in no reported state'}, not ACTIVE: ` +
          'its API server can be used once it is ACTIVE',
      );
    }
    const where = `EKS cluster "${name}" in ${region}`;
    const server = httpsServer(cluster.endpoint);
    if (typeof server === 'object') {
      throw new ClusterAccessError(
        'Unavailable',
        name,
        `${where} reports no usable endpoint: ${server.problem}`,
      );
    }
    const caPem = pemOf(cluster.certificateAuthority?.data);
    if (typeof caPem === 'object') {
      throw new ClusterAccessError(
        'Unavailable',
        name,
        `${where} reports no usable certificate authority: ${caPem.problem}`,
      );
    }
    const tokens = this.tokens(eks);
    return {
      name,
      server,
      caPem,
      token: () =>
        tokens.token(name).catch((error: unknown) => {
          throw new ClusterAccessError(
            'Unavailable',
            name,
            `cannot sign an EKS token for "${name}": ${describe(error)}`,
            { cause: error },
          );
        }),
    };
  }

  private async fromSecret(name: string, secretArn: string): Promise<ClusterConnection> {
    const where = `the connection secret ${secretArn} of cluster "${name}"`;
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await this.secrets().send(
        new GetSecretValueCommand({ SecretId: secretArn }),
      ));
    } catch (error) {
      throw getSecretError(error, name, secretArn);
    }
    if (typeof secretString !== 'string') {
      throw new ClusterAccessError(
        'InvalidConfiguration',
        name,
        `${where} has no SecretString (binary secrets are not read)`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(secretString);
    } catch {
      // No cause and no parser message: both quote the secret's text, which holds the token.
      throw new ClusterAccessError(
        'InvalidConfiguration',
        name,
        `${where} is not JSON; expected ${SECRET_SHAPE}`,
      );
    }
    const parsed = ConnectionSecret.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(the value)'} ${issue.message}`,
      );
      throw new ClusterAccessError(
        'InvalidConfiguration',
        name,
        `${where} is unusable: ${problems.join('; ')}`,
      );
    }
    const { server, certificateAuthorityData: caPem, token } = parsed.data;
    return { name, server, caPem, token: () => Promise.resolve(token) };
  }

  private eks(): EKSClient {
    this.eksClient ??= new EKSClient({ region: this.options.region });
    return this.eksClient;
  }

  private secrets(): SecretsManagerClient {
    this.secretsClient ??= new SecretsManagerClient({ region: this.options.region });
    return this.secretsClient;
  }

  /** Signed with the EKS client's own credentials and region: whoever may describe the cluster signs for it. */
  private tokens(eks: EKSClient): EksTokenSource {
    this.eksTokens ??= new EksTokenSource({
      region: eks.config.region,
      credentials: eks.config.credentials,
      clock: this.clock,
    });
    return this.eksTokens;
  }
}

const SECRET_SHAPE =
  '{"server": "https://…", "certificateAuthorityData": "<base64 PEM>", "token": "<bearer token>"}';

// Messages name the field and the rule, never the value: the token must not reach a log.
const aString = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : 'must be a string'),
};
const ConnectionSecret = z.object({
  server: z.string(aString).transform((value, context) => {
    const server = httpsServer(value);
    if (typeof server === 'string') return server;
    context.issues.push({ code: 'custom', message: server.problem, input: '' });
    return z.NEVER;
  }),
  certificateAuthorityData: z.string(aString).transform((value, context) => {
    const pem = pemOf(value);
    if (typeof pem === 'string') return pem;
    context.issues.push({ code: 'custom', message: pem.problem, input: '' });
    return z.NEVER;
  }),
  // Printable ASCII without spaces: anything else would break (or inject into) the Authorization header.
  token: z.string(aString).regex(/^[\x21-\x7e]+$/, {
    error: 'must be a non-empty bearer token of printable ASCII without whitespace',
  }),
});

export function checkClusterName(name: string): void {
  if (ClusterName.safeParse(name).success) return;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 120)) : String(name);
  throw new ClusterAccessError(
    'InvalidConfiguration',
    String(name).slice(0, 120),
    `invalid cluster name ${shown}: 1–100 letters, digits, hyphens and underscores, starting with a letter or digit`,
  );
}

/** An https URL without a trailing slash, so callers can append `/api/v1/…`. */
function httpsServer(value: string | undefined): string | { problem: string } {
  if (!value) return { problem: 'is missing' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'must be an https:// URL' };
  }
  if (url.protocol !== 'https:') return { problem: `must be an https:// URL (not ${url.protocol}//)` };
  if (url.username || url.password || /[?#]/.test(value)) {
    return { problem: 'must be an https:// URL without credentials, query or fragment' };
  }
  return value.replace(/\/+$/, '');
}

/** kubeconfig style: base64 of the PEM text. Checked to hold a certificate, so a TLS failure later is not a puzzle. */
function pemOf(data: string | undefined): string | { problem: string } {
  const problem = 'must be base64 of a PEM certificate (as in a kubeconfig certificate-authority-data)';
  const compact = data?.replace(/\s+/g, '') ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return { problem };
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return { problem };
  try {
    new X509Certificate(pem);
  } catch {
    return { problem };
  }
  return pem;
}

function describeClusterError(error: unknown, name: string, region: string): ClusterAccessError {
  const code = errorName(error);
  if (code === 'AccessDeniedException') {
    // AWS's message names the exact ARN (with the account); fall back to its pattern.
    const arn =
      /arn:[\w-]+:eks:[\w-]+:\d{12}:cluster\/[\w-]+/.exec(describe(error))?.[0] ??
      `arn:${partitionIdOf(region)}:eks:${region}:<account>:cluster/${name}`;
    return new ClusterAccessError(
      'AccessDenied',
      name,
      `the function role lacks eks:DescribeCluster on ${arn}: grant it in the role's policy`,
      { cause: error, missingPermission: 'eks:DescribeCluster' },
    );
  }
  if (code === 'ResourceNotFoundException') return notFound(name, region, error);
  return new ClusterAccessError(
    'Unavailable',
    name,
    `cannot describe EKS cluster "${name}" in ${region}: ${describe(error)}`,
    { cause: error },
  );
}

function notFound(name: string, region: string, cause?: unknown): ClusterAccessError {
  return new ClusterAccessError(
    'NotFound',
    name,
    `no EKS cluster named "${name}" in ${region}: check the cluster name and region ` +
      '(a cluster outside EKS needs a connection secret)',
    { cause },
  );
}

function getSecretError(error: unknown, name: string, secretArn: string): ClusterAccessError {
  const code = errorName(error);
  if (code === 'AccessDeniedException') {
    return new ClusterAccessError(
      'AccessDenied',
      name,
      `the function role lacks secretsmanager:GetSecretValue on ${secretArn} (cluster "${name}")`,
      { cause: error, missingPermission: 'secretsmanager:GetSecretValue' },
    );
  }
  if (code === 'DecryptionFailure') {
    return new ClusterAccessError(
      'AccessDenied',
      name,
      `the function role cannot decrypt ${secretArn} (cluster "${name}"): grant kms:Decrypt on the secret's KMS key`,
      { cause: error, missingPermission: 'kms:Decrypt' },
    );
  }
  if (code === 'ResourceNotFoundException') {
    return new ClusterAccessError(
      'NotFound',
      name,
      `the connection secret ${secretArn} of cluster "${name}" does not exist (or has no AWSCURRENT version)`,
      { cause: error },
    );
  }
  return new ClusterAccessError(
    'Unavailable',
    name,
    `cannot read the connection secret ${secretArn} of cluster "${name}": ${describe(error)}`,
    { cause: error },
  );
}

function partitionIdOf(region: string): string {
  try {
    return awsPartitionOf(region).id;
  } catch {
    return 'aws';
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
