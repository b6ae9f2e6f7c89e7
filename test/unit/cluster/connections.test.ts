import { createHash, createHmac } from 'node:crypto';
import {
  AccessDeniedException,
  type Cluster,
  DescribeClusterCommand,
  EKSClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterAccessError,
  type ClusterAccessErrorKind,
  ClusterConnections,
  EKS_CLUSTER_TTL_MS,
  SECRET_CLUSTER_TTL_MS,
} from '../../../lambdas/core/cluster/connections.js';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const NOW = new Date('2024-05-01T12:00:00Z');
const ENDPOINT = 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem-cluster-AbCdEf';
const TOKEN = 'tok-SUPERSECRET-0123456789';

const eksMock = mockClient(EKSClient);
const secretsMock = mockClient(SecretsManagerClient);

let caPem: string;
let caData: string;
beforeAll(async () => {
  caPem = (await generate([{ name: 'commonName', value: 'kubernetes' }], { keySize: 2048 })).cert;
  caData = Buffer.from(caPem, 'utf8').toString('base64');
});

afterAll(() => {
  eksMock.restore();
  secretsMock.restore();
});

beforeEach(() => {
  eksMock.reset();
  secretsMock.reset();
});

function cluster(overrides: Partial<Cluster> = {}): { cluster: Cluster } {
  return {
    cluster: {
      name: 'prod',
      status: 'ACTIVE',
      endpoint: ENDPOINT,
      certificateAuthority: { data: caData },
      ...overrides,
    },
  };
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

function setup(options: { region?: string; secretArns?: Record<string, string> } = {}) {
  let now = NOW;
  const eks = new EKSClient({ region: options.region ?? 'eu-west-1', credentials: CREDENTIALS });
  const secretsManager = new SecretsManagerClient({ region: 'eu-west-1', credentials: CREDENTIALS });
  const connections = new ClusterConnections({
    eks,
    secretsManager,
    secretArns: options.secretArns,
    clock: () => now,
  });
  return {
    connections,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

async function accessError(attempt: Promise<unknown>): Promise<ClusterAccessError> {
  const error = await attempt.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ClusterAccessError);
  return error as ClusterAccessError;
}

async function expectAccessError(
  attempt: Promise<unknown>,
  kind: ClusterAccessErrorKind,
  message: RegExp | string,
): Promise<ClusterAccessError> {
  const error = await accessError(attempt);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(message);
  return error;
}

/** The token as the API server would check it: which STS host, and signed for which cluster. */
function signedFor(token: string): { host: string; verifies: (cluster: string) => boolean } {
  expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
  const text = Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
  const url = new URL(text);
  const params = text
    .slice(text.indexOf('?') + 1)
    .split('&')
    .map((pair) => pair.split('=').map(decodeURIComponent) as [string, string]);
  const get = (name: string) => params.find(([key]) => key === name)?.[1] ?? '';
  const encode = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = params
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join('&');
  const [, date = '', region = '', service = ''] = get('X-Amz-Credential').split('/');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const sha = (data: string) => createHash('sha256').update(data).digest('hex');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  return {
    host: url.host,
    verifies: (name) => {
      const request = [
        'GET',
        '/',
        query,
        `host:${url.host}\nx-k8s-aws-id:${name}\n`,
        'host;x-k8s-aws-id',
        sha(''),
      ];
      const scope = `${date}/${region}/${service}/aws4_request`;
      const toSign = ['AWS4-HMAC-SHA256', get('X-Amz-Date'), scope, sha(request.join('\n'))].join('\n');
      return createHmac('sha256', key).update(toSign).digest('hex') === get('X-Amz-Signature');
    },
  };
}

describe('EKS clusters', () => {
  it('resolves endpoint, CA and a token signed for the cluster', async () => {
    eksMock.on(DescribeClusterCommand, { name: 'prod' }).resolves(cluster());
    const { connections } = setup();

    const connection = await connections.connect('prod');

    expect(connection).toMatchObject({ name: 'prod', server: ENDPOINT, caPem });
    const token = signedFor(await connection.token());
    expect(token.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(token.verifies('prod')).toBe(true);
    expect(token.verifies('staging')).toBe(false);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('signs in the partition of the EKS client region', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .resolves(cluster({ endpoint: 'https://abc.yl4.cn-north-1.eks.amazonaws.com.cn' }));
    const { connections } = setup({ region: 'cn-north-1' });
    const token = signedFor(await (await connections.connect('prod')).token());
    expect(token.host).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(token.verifies('prod')).toBe(true);
  });

  it('makes the default clients from the region option, on first use', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    const connections = new ClusterConnections({ region: 'us-east-2' });
    const token = signedFor(await (await connections.connect('prod')).token());
    expect(token.host).toBe('sts.us-east-2.amazonaws.com');
  });

  it('reuses a description for 10 minutes, then describes again', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    const { connections, advance } = setup();
    const first = await connections.connect('prod');
    advance(EKS_CLUSTER_TTL_MS - 1);
    expect(await connections.connect('prod')).toBe(first);
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    advance(1);
    await connections.connect('prod');
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(2);
  });

  it('lets concurrent callers share one DescribeCluster, per cluster', async () => {
    eksMock.on(DescribeClusterCommand).callsFake(async ({ name }: { name: string }) => cluster({ name }));
    const { connections } = setup();
    const [a1, a2, a3, b] = await Promise.all([
      connections.connect('alpha'),
      connections.connect('alpha'),
      connections.connect('alpha'),
      connections.connect('beta'),
    ]);
    expect(a2).toBe(a1);
    expect(a3).toBe(a1);
    expect(b.name).toBe('beta');
    expect(eksMock.commandCalls(DescribeClusterCommand).map((call) => call.args[0].input.name)).toEqual([
      'alpha',
      'beta',
    ]);
    expect(signedFor(await b.token()).verifies('beta')).toBe(true);
  });

  it('does not cache a failure', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves(cluster());
    const { connections } = setup();
    await expectAccessError(connections.connect('prod'), 'Unavailable', /ThrottlingException: Rate exceeded/);
    expect((await connections.connect('prod')).server).toBe(ENDPOINT);
  });

  it('describes again after forget', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    const { connections } = setup();
    await connections.connect('prod');
    connections.forget('prod');
    await connections.connect('prod');
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(2);
  });

  it('names the missing permission and the cluster ARN AWS reported', async () => {
    eksMock.on(DescribeClusterCommand).rejects(
      new AccessDeniedException({
        message:
          'User: arn:aws:sts::123456789012:assumed-role/verifier/fn is not authorized to perform: ' +
          'eks:DescribeCluster on resource: arn:aws:eks:eu-west-1:123456789012:cluster/prod',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await expectAccessError(
      setup().connections.connect('prod'),
      'AccessDenied',
      'the function role lacks eks:DescribeCluster on arn:aws:eks:eu-west-1:123456789012:cluster/prod',
    );
    expect(error.cluster).toBe('prod');
    expect(error.missingPermission).toBe('eks:DescribeCluster');
  });

  it('names the ARN pattern in the right partition when AWS did not', async () => {
    eksMock.on(DescribeClusterCommand).rejects(awsError('AccessDeniedException', 'Access denied'));
    await expectAccessError(
      setup({ region: 'cn-north-1' }).connections.connect('prod'),
      'AccessDenied',
      'eks:DescribeCluster on arn:aws-cn:eks:cn-north-1:<account>:cluster/prod',
    );
  });

  it('says which cluster does not exist where', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .rejects(new ResourceNotFoundException({ message: 'No cluster found for name: prod.', $metadata: {} }));
    await expectAccessError(
      setup().connections.connect('prod'),
      'NotFound',
      'no EKS cluster named "prod" in eu-west-1',
    );
  });

  it.each(['CREATING', 'DELETING', 'FAILED', 'PENDING'] as const)('refuses a %s cluster', async (status) => {
    eksMock.on(DescribeClusterCommand).resolves(cluster({ status }));
    await expectAccessError(setup().connections.connect('prod'), 'NotActive', `is ${status}, not ACTIVE`);
  });

  it('uses an UPDATING cluster: its API server keeps serving', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster({ status: 'UPDATING' }));
    expect((await setup().connections.connect('prod')).server).toBe(ENDPOINT);
  });

  it.each([
    ['an http endpoint', { endpoint: 'http://abc.eks.amazonaws.com' }, /endpoint: must be an https:\/\/ URL/],
    ['no endpoint', { endpoint: undefined }, /endpoint: is missing/],
    ['no CA', { certificateAuthority: {} }, /certificate authority: must be base64 of a PEM/],
    [
      'a CA that is not a certificate',
      { certificateAuthority: { data: 'bm90IGEgY2VydA==' } },
      /certificate authority/,
    ],
  ])('refuses %s', async (_case, overrides: Partial<Cluster>, message) => {
    eksMock.on(DescribeClusterCommand).resolves(cluster(overrides));
    await expectAccessError(setup().connections.connect('prod'), 'Unavailable', message);
  });

  it('reports a token that cannot be signed as Unavailable', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    const eks = new EKSClient({
      region: 'eu-west-1',
      credentials: async () => {
        throw new Error('no credentials in this container');
      },
    });
    const connection = await new ClusterConnections({ eks, clock: () => NOW }).connect('prod');
    await expectAccessError(
      connection.token(),
      'Unavailable',
      /cannot sign an EKS token for "prod": .*no credentials/,
    );
  });
});

describe('clusters behind a secret', () => {
  const secretArns = { onprem: SECRET_ARN };
  const secret = (value: unknown) => ({
    SecretString: typeof value === 'string' ? value : JSON.stringify(value),
  });
  const valid = () => ({
    server: 'https://k8s.example.internal:6443/',
    certificateAuthorityData: caData,
    token: TOKEN,
  });

  it('reads server, CA and token from the secret, without EKS', async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves(secret(valid()));
    const connection = await setup({ secretArns }).connections.connect('onprem');
    expect(connection).toMatchObject({ name: 'onprem', server: 'https://k8s.example.internal:6443', caPem });
    expect(await connection.token()).toBe(TOKEN);
    expect(eksMock.calls()).toHaveLength(0);
  });

  it('needs no EKS client at all', async () => {
    secretsMock.on(GetSecretValueCommand).resolves(secret(valid()));
    const secretsManager = new SecretsManagerClient({ region: 'eu-west-1', credentials: CREDENTIALS });
    const connection = await new ClusterConnections({ secretsManager, secretArns }).connect('onprem');
    expect(connection.server).toBe('https://k8s.example.internal:6443');
  });

  it('keeps a path prefix of the server (API proxies)', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .resolves(secret({ ...valid(), server: 'https://rancher.example/k8s/clusters/c-1/' }));
    expect((await setup({ secretArns }).connections.connect('onprem')).server).toBe(
      'https://rancher.example/k8s/clusters/c-1',
    );
  });

  it('reuses the secret for 5 minutes, then reads it again', async () => {
    secretsMock.on(GetSecretValueCommand).resolves(secret(valid()));
    const { connections, advance } = setup({ secretArns });
    await Promise.all([connections.connect('onprem'), connections.connect('onprem')]);
    advance(SECRET_CLUSTER_TTL_MS - 1);
    await connections.connect('onprem');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    advance(1);
    await connections.connect('onprem');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    [
      'AccessDeniedException',
      'AccessDenied',
      `lacks secretsmanager:GetSecretValue on ${SECRET_ARN}`,
      'secretsmanager:GetSecretValue',
    ],
    ['DecryptionFailure', 'AccessDenied', /grant kms:Decrypt/, 'kms:Decrypt'],
    ['ResourceNotFoundException', 'NotFound', `${SECRET_ARN} of cluster "onprem" does not exist`, undefined],
    [
      'InternalServiceError',
      'Unavailable',
      /cannot read the connection secret .*InternalServiceError/,
      undefined,
    ],
  ] as const)('maps %s to %s', async (name, kind, message, missingPermission) => {
    secretsMock.on(GetSecretValueCommand).rejects(awsError(name, 'from AWS'));
    const error = await expectAccessError(setup({ secretArns }).connections.connect('onprem'), kind, message);
    expect(error.missingPermission).toBe(missingPermission);
  });

  const unusable: [string, { SecretString?: string; SecretBinary?: Uint8Array }, RegExp][] = [
    ['not JSON', secret(`{"token": "${TOKEN}", oops`), /is not JSON; expected \{"server"/],
    ['a binary secret', { SecretBinary: Buffer.from(TOKEN) }, /has no SecretString/],
    ['an array', secret([TOKEN]), /\(the value\) /],
    [
      'an http server',
      secret({ ...valid(), server: 'http://k8s.example.internal' }),
      /server must be an https:\/\/ URL \(not http:\/\/\)/,
    ],
    ['a server that is no URL', secret({ ...valid(), server: TOKEN }), /server must be an https:\/\/ URL/],
    [
      'a server with credentials',
      secret({ ...valid(), server: `https://u:${TOKEN}@k8s.example` }),
      /server must be an https:\/\/ URL without credentials/,
    ],
    [
      'raw PEM instead of base64',
      secret({ ...valid(), certificateAuthorityData: 'caPem' }),
      /certificateAuthorityData must be base64 of a PEM/,
    ],
    [
      'a token with a newline',
      secret({ ...valid(), token: `${TOKEN}\nX-Injected: 1` }),
      /token must be a non-empty bearer token/,
    ],
    ['an empty token', secret({ ...valid(), token: '' }), /token must be a non-empty bearer token/],
    ['a numeric token', secret({ ...valid(), token: 12345 }), /token must be a string/],
    ['nothing', secret({}), /server is missing; certificateAuthorityData is missing; token is missing/],
  ];

  it.each(unusable)('refuses %s, naming the secret and the field', async (_case, value, message) => {
    secretsMock.on(GetSecretValueCommand).resolves(value);
    const error = await expectAccessError(
      setup({ secretArns }).connections.connect('onprem'),
      'InvalidConfiguration',
      message,
    );
    expect(error.message).toContain(`the connection secret ${SECRET_ARN} of cluster "onprem"`);
  });

  it.each(unusable)('never lets the token out in an error (%s)', async (_case, value) => {
    secretsMock.on(GetSecretValueCommand).resolves(value);
    const error = await accessError(setup({ secretArns }).connections.connect('onprem'));
    let text = `${String(error)}\n${error.stack}\n${JSON.stringify(error)}`;
    for (let cause: unknown = error.cause; cause; cause = (cause as Error).cause)
      text += `\n${String(cause)}`;
    expect(text).not.toContain('SUPERSECRET');
  });
});

describe('cluster names', () => {
  it.each([
    '',
    '-prod',
    '_prod',
    'prod.example',
    'prod/../x',
    'prod cluster',
    'prod\n',
    'a'.repeat(101),
    'präd',
  ])('refuses %j before any AWS call', async (name) => {
    const { connections } = setup({ secretArns: { onprem: SECRET_ARN } });
    await expectAccessError(connections.connect(name), 'InvalidConfiguration', /invalid cluster name/);
    expect(eksMock.calls()).toHaveLength(0);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('accepts the longest and the shortest EKS names', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    const { connections } = setup();
    await connections.connect('a'.repeat(100));
    await connections.connect('7');
    await connections.connect('Prod_Cluster-2');
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(3);
  });

  it('looks up names that are Object properties with EKS, not in the secret map', async () => {
    eksMock.on(DescribeClusterCommand).resolves(cluster());
    await setup({ secretArns: { onprem: SECRET_ARN } }).connections.connect('constructor');
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it('refuses a secret mapping no name could ever use', () => {
    expect(() => new ClusterConnections({ secretArns: { 'on prem': SECRET_ARN } })).toThrow(
      /invalid cluster name/,
    );
    expect(() => new ClusterConnections({ secretArns: { onprem: ' ' } })).toThrow(/empty secret ARN/);
  });
});
