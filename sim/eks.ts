import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { KubeUser } from './kube/index.js';
import { listenOnLoopback } from './loopback-server.js';
import {
  authenticatorProblems,
  credentialScope,
  decodeEksToken,
  TokenRejected,
  verifyAuthorizationHeader,
  verifyPresignedSignature,
} from './sigv4-verify.js';

/**
 * The AWS side of reaching an EKS cluster, on loopback:
 * - `startEksSim`: EKS `DescribeCluster` (restJson1 `GET /clusters/{name}`, the shape of the AWS API
 *   reference example) answering the kube-sim's endpoint and base64 CA, for the real
 *   `@aws-sdk/client-eks` pointed at it with `AWS_ENDPOINT_URL_EKS`. Requests must be SigV4-signed
 *   by a known access key (checked with sim/sigv4-verify.ts).
 * - `eksAuthenticator`: a kube-sim `authenticate(token)` that plays aws-iam-authenticator and STS:
 *   decodes the `k8s-aws-v1.` token, applies the authenticator's URL rules, checks that
 *   `x-k8s-aws-id` (the cluster name) is signed, verifies the presigned GetCallerIdentity
 *   signature with the caller's secret key — what STS does when the URL is replayed — and maps
 *   the assumed-role ARN to a Kubernetes user and groups the way an EKS access entry does.
 */

/** An IAM role's credentials as one Lambda function sees them, and its EKS access entry. */
export interface IamIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  /** The function role's name, e.g. `rollout-verifier-callback`. */
  roleName: string;
  /** The role session Lambda opens: the function name. */
  sessionName: string;
  /** The access entry's Kubernetes groups. */
  kubernetesGroups: string[];
}

export interface EksClusterSpec {
  name: string;
  /** `https://127.0.0.1:PORT`: the kube-sim's URL. */
  endpoint: string;
  caPem: string;
  version?: string;
}

export interface EksSimRequest {
  operation: 'DescribeCluster' | 'Unknown';
  cluster?: string;
  status: number;
  /** The role the request was signed as, when the signature checked out. */
  principal?: string;
}

export interface EksSim {
  endpoint: string;
  readonly requests: readonly EksSimRequest[];
  close(): Promise<void>;
}

export function assumedRoleArn(
  account: string,
  identity: Pick<IamIdentity, 'roleName' | 'sessionName'>,
): string {
  return `arn:aws:sts::${account}:assumed-role/${identity.roleName}/${identity.sessionName}`;
}

export async function startEksSim(options: {
  region: string;
  account?: string;
  clusters: EksClusterSpec[];
  identities: IamIdentity[];
}): Promise<EksSim> {
  const account = options.account ?? '123456789012';
  const byKey = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));
  const requests: EksSimRequest[] = [];
  const createdAt = Math.floor(Date.now() / 1000) - 86_400 * 90;

  const reply = (response: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    response.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    response.end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const [path = '/', rawQuery = ''] = (request.url ?? '/').split('?');
    const match = /^\/clusters\/([^/]+)$/.exec(path);
    const record: EksSimRequest = {
      operation: match && request.method === 'GET' ? 'DescribeCluster' : 'Unknown',
      status: 0,
    };
    requests.push(record);
    const fail = (status: number, type: string, message: string, extra: Record<string, unknown> = {}) => {
      record.status = status;
      reply(response, status, { message, ...extra }, type);
    };
    const check = verifyAuthorizationHeader(
      {
        method: request.method ?? 'GET',
        path,
        rawQuery,
        headers: request.headers,
        body: Buffer.concat(chunks),
      },
      (key) => byKey.get(key)?.secretAccessKey,
      { service: 'eks' },
    );
    if (!check.ok) {
      const type =
        check.code === 'MissingAuthenticationToken'
          ? 'MissingAuthenticationTokenException'
          : check.code === 'UnrecognizedClient'
            ? 'UnrecognizedClientException'
            : 'InvalidSignatureException';
      return fail(403, type, check.message);
    }
    const identity = byKey.get(check.accessKeyId);
    record.principal = identity?.roleName;
    if (!match || request.method !== 'GET') {
      return fail(
        404,
        'UnknownOperationException',
        `the EKS simulator only answers DescribeCluster, not ${request.method} ${path}`,
      );
    }
    const name = decodeURIComponent(match[1] ?? '');
    record.cluster = name;
    const cluster = options.clusters.find((candidate) => candidate.name === name);
    if (!cluster) {
      return fail(404, 'ResourceNotFoundException', `No cluster found for name: ${name}.`, {
        clusterName: name,
      });
    }
    record.status = 200;
    reply(response, 200, { cluster: describe(cluster) });
  };

  const describe = (cluster: EksClusterSpec) => ({
    name: cluster.name,
    arn: `arn:aws:eks:${options.region}:${account}:cluster/${cluster.name}`,
    createdAt,
    version: cluster.version ?? '1.33',
    endpoint: cluster.endpoint,
    roleArn: `arn:aws:iam::${account}:role/eks-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      securityGroupIds: [],
      clusterSecurityGroupId: 'sg-0c3d4e5f60718293a',
      vpcId: 'vpc-0d4e5f60718293a4b',
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
      publicAccessCidrs: [],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4' },
    logging: { clusterLogging: [{ types: ['api', 'audit', 'authenticator'], enabled: true }] },
    identity: {
      oidc: {
        issuer: `https://oidc.eks.${options.region}.amazonaws.com/id/5E1F2A3B4C5D6E7F8091A2B3C4D5E6F7`,
      },
    },
    status: 'ACTIVE',
    certificateAuthority: { data: Buffer.from(cluster.caPem, 'utf8').toString('base64') },
    platformVersion: 'eks.9',
    tags: {},
    accessConfig: { authenticationMode: 'API' },
  });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) =>
      reply(response, 500, { message: String(error) }, 'ServerException'),
    );
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: listener.close,
  };
}

export interface EksAuthenticator {
  authenticate(token: string): KubeUser | undefined;
  /** Why tokens were refused, newest last (never the token itself). */
  readonly rejections: readonly string[];
}

/**
 * aws-iam-authenticator + STS for one cluster: accepts a token only if the authenticator's rules
 * hold, `x-k8s-aws-id` is signed for `clusterName`, the signature verifies with the access key's
 * secret, and the key belongs to an identity with an access entry. The user is the assumed-role
 * session ARN (the access entry's default username for a role); the groups are the entry's.
 */
export function eksAuthenticator(options: {
  clusterName: string;
  region: string;
  account?: string;
  identities: IamIdentity[];
  now?: () => Date;
}): EksAuthenticator {
  const account = options.account ?? '123456789012';
  const now = options.now ?? (() => new Date());
  const byKey = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));
  const rejections: string[] = [];
  const reject = (why: string) => {
    rejections.push(why);
    return undefined;
  };
  return {
    rejections,
    authenticate(token) {
      let decoded: ReturnType<typeof decodeEksToken>;
      try {
        decoded = decodeEksToken(token);
      } catch (error) {
        return reject(error instanceof TokenRejected ? error.message : 'token could not be decoded');
      }
      const problems = authenticatorProblems(decoded, { now: now() });
      if (problems.length > 0) return reject(problems.join('; '));
      const scope = credentialScope(decoded.get('X-Amz-Credential') ?? '');
      if (scope?.service !== 'sts') return reject('credential scope is not sts');
      // STS answers only for a scope of its own region (the global endpoint signs as us-east-1).
      const hostRegion = /^sts\.([^.]+)\.amazonaws\.com$/.exec(decoded.url.host)?.[1] ?? 'us-east-1';
      if (scope.region !== hostRegion)
        return reject(`credential scope ${scope.region} does not match ${decoded.url.host}`);
      const identity = byKey.get(scope.accessKeyId);
      if (!identity) return reject('STS: the security token included in the request is invalid');
      if (!verifyPresignedSignature(decoded, options.clusterName, identity.secretAccessKey)) {
        return reject(
          `STS: signature does not match (signed for another cluster than ${options.clusterName}, or another key)`,
        );
      }
      return {
        user: assumedRoleArn(account, identity),
        groups: [...identity.kubernetesGroups, 'system:authenticated'],
      };
    },
  };
}
