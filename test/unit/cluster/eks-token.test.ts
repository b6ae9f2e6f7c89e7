import { EKSClient } from '@aws-sdk/client-eks';
import { describe, expect, it, vi } from 'vitest';
import {
  type CredentialsProvider,
  createEksToken,
  EksTokenSource,
  type SigningCredentials,
} from '../../../lambdas/core/cluster/eks-token.js';
import {
  ALLOWED_TOKEN_PARAMETERS,
  authenticatorProblems,
  type DecodedToken,
  decodeEksToken,
  lookup,
  sha256Hex,
  signatureOf,
  signingKey,
  verifyPresignedSignature,
} from '../../../sim/sigv4-verify.js';

// The example credentials of the AWS Signature Version 4 documentation.
const CREDENTIALS: SigningCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const NOW = new Date('2024-05-01T12:00:00Z');
const MINUTE = 60_000;

/**
 * The checks aws-iam-authenticator's Verify makes before it replays the URL to STS
 * (kubernetes-sigs/aws-iam-authenticator, pkg/token/token.go), and an independent SigV4 check,
 * both written out from the specifications in sim/sigv4-verify.ts (the demo's kube-sim
 * authenticates EKS tokens with the same code).
 */
function decode(token: string): DecodedToken {
  expect(token.length).toBeLessThanOrEqual(4096);
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  return decodeEksToken(token);
}

function expectAcceptedByAuthenticator(decoded: DecodedToken, clusterName: string, host: string): void {
  const { url, params, get } = decoded;
  expect(authenticatorProblems(decoded)).toEqual([]);
  expect(url.host).toBe(host);
  const lowerKeys = params.map(([key]) => key.toLowerCase());
  for (const key of lowerKeys) expect(ALLOWED_TOKEN_PARAMETERS, key).toContain(key);
  expect(get('Action')).toBe('GetCallerIdentity');
  expect(get('Version')).toBe('2011-06-15');
  const signedHeaders = get('X-Amz-SignedHeaders')?.split(';');
  expect(signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
  expect(get('X-Amz-Date')).toMatch(/^\d{8}T\d{6}Z$/);
  expect(verifySignature(decoded, clusterName, CREDENTIALS.secretAccessKey)).toBe(true);
}

const verifySignature = verifyPresignedSignature;

describe('the independent SigV4 check', () => {
  // Values from the AWS Signature Version 4 documentation, so the check is anchored outside this code.
  it('derives the documented signing key', () => {
    expect(signingKey(CREDENTIALS.secretAccessKey, '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('reproduces the documented IAM ListUsers signature', () => {
    const canonicalRequest = [
      'GET',
      '/',
      'Action=ListUsers&Version=2010-05-08',
      'content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n',
      'content-type;host;x-amz-date',
      sha256Hex(''),
    ].join('\n');
    expect(sha256Hex(canonicalRequest)).toBe(
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    expect(
      signatureOf(
        CREDENTIALS.secretAccessKey,
        '20150830T123600Z',
        '20150830/us-east-1/iam/aws4_request',
        canonicalRequest,
      ),
    ).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });
});

describe('createEksToken', () => {
  it('makes a token the authenticator accepts, signed for the cluster', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    const decoded = decode(token);
    expectAcceptedByAuthenticator(decoded, 'prod', 'sts.eu-west-1.amazonaws.com');
    expect(decoded.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240501/eu-west-1/sts/aws4_request');
    expect(decoded.get('X-Amz-Date')).toBe('20240501T120000Z');
    expect(decoded.get('X-Amz-Expires')).toBe('60');
    expect(decoded.get('X-Amz-Security-Token')).toBeUndefined();
    expect(expiresAt).toEqual(new Date('2024-05-01T12:15:00Z'));
  });

  it('does not verify for another cluster name, another key or a changed parameter', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    const decoded = decode(token);
    expect(verifySignature(decoded, 'prod', CREDENTIALS.secretAccessKey)).toBe(true);
    expect(verifySignature(decoded, 'prod2', CREDENTIALS.secretAccessKey)).toBe(false);
    expect(verifySignature(decoded, 'Prod', CREDENTIALS.secretAccessKey)).toBe(false);
    expect(verifySignature(decoded, 'prod', 'another-secret')).toBe(false);
    const later = decoded.params.map(([key, value]): [string, string] =>
      key === 'X-Amz-Date' ? [key, '20240501T121000Z'] : [key, value],
    );
    expect(
      verifySignature({ ...decoded, params: later, get: lookup(later) }, 'prod', CREDENTIALS.secretAccessKey),
    ).toBe(false);
  });

  it('carries a session token as X-Amz-Security-Token, covered by the signature', async () => {
    const sessionToken = `IQoJb3JpZ2luX2VjE+/=${'A'.repeat(900)}==`;
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: { ...CREDENTIALS, sessionToken },
      now: NOW,
    });
    const decoded = decode(token);
    expectAcceptedByAuthenticator(decoded, 'prod', 'sts.eu-west-1.amazonaws.com');
    expect(decoded.get('X-Amz-Security-Token')).toBe(sessionToken);
    const without = decoded.params.filter(([key]) => key !== 'X-Amz-Security-Token');
    expect(
      verifySignature(
        { ...decoded, params: without, get: lookup(without) },
        'prod',
        CREDENTIALS.secretAccessKey,
      ),
    ).toBe(false);
  });

  it.each([
    ['us-east-1', 'sts.us-east-1.amazonaws.com'],
    ['ap-southeast-7', 'sts.ap-southeast-7.amazonaws.com'],
    ['cn-north-1', 'sts.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', 'sts.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-west-1', 'sts.us-gov-west-1.amazonaws.com'],
    ['us-iso-east-1', 'sts.us-iso-east-1.c2s.ic.gov'],
  ])('signs in %s with the regional STS endpoint %s', async (region, host) => {
    const { token } = await createEksToken({
      clusterName: 'prod',
      region,
      credentials: CREDENTIALS,
      now: NOW,
    });
    const decoded = decode(token);
    expectAcceptedByAuthenticator(decoded, 'prod', host);
    expect(decoded.get('X-Amz-Credential')).toBe(`AKIDEXAMPLE/20240501/${region}/sts/aws4_request`);
  });

  it.each(['', 'eu-west-1.evil.example', 'EU-WEST-1', 'eusc-de-east-1', 'eu-west-1/x', 'local'])(
    'refuses the region %j',
    async (region) => {
      await expect(
        createEksToken({ clusterName: 'prod', region, credentials: CREDENTIALS, now: NOW }),
      ).rejects.toThrow(/not a known AWS region/);
    },
  );

  it('measures validity from the whole second in X-Amz-Date', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      now: new Date('2024-05-01T12:00:00.999Z'),
    });
    expect(decode(token).get('X-Amz-Date')).toBe('20240501T120000Z');
    expect(expiresAt.getTime() - NOW.getTime()).toBe(15 * MINUTE);
  });

  it('expires with the credentials when they end before the 15 minutes', async () => {
    const expiration = new Date(NOW.getTime() + 5 * MINUTE);
    const { expiresAt } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: { ...CREDENTIALS, sessionToken: 'session', expiration },
      now: NOW,
    });
    expect(expiresAt).toEqual(expiration);
  });

  it('refuses to make a token over the 4096 bytes the authenticator accepts, without quoting the session token', async () => {
    const sessionToken = `SECRET${'x'.repeat(3000)}`;
    const attempt = createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: { ...CREDENTIALS, sessionToken },
      now: NOW,
    });
    await expect(attempt).rejects.toThrow(/at most 4096/);
    await expect(attempt).rejects.not.toThrow(/SECRET/);
  });

  it('needs a cluster name', async () => {
    await expect(
      createEksToken({ clusterName: '', region: 'eu-west-1', credentials: CREDENTIALS }),
    ).rejects.toThrow(/cluster name/);
  });
});

describe('EksTokenSource', () => {
  function setup(credentials: CredentialsProvider = async () => CREDENTIALS) {
    let now = NOW;
    const provider = vi.fn(credentials);
    const source = new EksTokenSource({ region: 'eu-west-1', credentials: provider, clock: () => now });
    return {
      source,
      provider,
      advance: (ms: number) => {
        now = new Date(now.getTime() + ms);
      },
    };
  }

  it('reuses a token for 14 minutes and signs a new one after', async () => {
    const { source, provider, advance } = setup();
    const first = await source.token('prod');
    advance(14 * MINUTE - 1000);
    expect(await source.token('prod')).toBe(first);
    expect(provider).toHaveBeenCalledTimes(1);

    advance(1000);
    const second = await source.token('prod');
    expect(second).not.toBe(first);
    expect(decode(second).get('X-Amz-Date')).toBe('20240501T121400Z');
    expectAcceptedByAuthenticator(decode(second), 'prod', 'sts.eu-west-1.amazonaws.com');
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('keeps one token per cluster, each signed for its own cluster', async () => {
    const { source } = setup();
    const [a, b] = await Promise.all([source.token('alpha'), source.token('beta')]);
    expect(a).not.toBe(b);
    expect(verifySignature(decode(a), 'alpha', CREDENTIALS.secretAccessKey)).toBe(true);
    expect(verifySignature(decode(b), 'beta', CREDENTIALS.secretAccessKey)).toBe(true);
    expect(verifySignature(decode(a), 'beta', CREDENTIALS.secretAccessKey)).toBe(false);
    expect(await source.token('alpha')).toBe(a);
  });

  it('lets concurrent callers share one signing', async () => {
    let release: (credentials: SigningCredentials) => void = () => {};
    const { source, provider } = setup(() => new Promise((resolve) => (release = resolve)));
    const callers = [source.token('prod'), source.token('prod'), source.token('prod')];
    release(CREDENTIALS);
    const tokens = await Promise.all(callers);
    expect(new Set(tokens).size).toBe(1);
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('does not cache a failure', async () => {
    const { source, provider } = setup();
    provider.mockRejectedValueOnce(new Error('credentials unavailable'));
    await expect(source.token('prod')).rejects.toThrow('credentials unavailable');
    expect(decode(await source.token('prod')).get('Action')).toBe('GetCallerIdentity');
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('renews early when the signing credentials expire first', async () => {
    const expiration = new Date(NOW.getTime() + 5 * MINUTE);
    const { source, provider, advance } = setup(async () => ({
      ...CREDENTIALS,
      sessionToken: 's',
      expiration,
    }));
    const first = await source.token('prod');
    advance(4 * MINUTE - 1000);
    expect(await source.token('prod')).toBe(first);
    advance(1000);
    await source.token('prod');
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('signs again after forget', async () => {
    const { source, provider } = setup();
    await source.token('prod');
    source.forget('prod');
    await source.token('prod');
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('takes region and credentials from an SDK client, as production does', async () => {
    const eks = new EKSClient({ region: 'cn-north-1', credentials: CREDENTIALS });
    const source = new EksTokenSource({
      region: eks.config.region,
      credentials: eks.config.credentials,
      clock: () => NOW,
    });
    const decoded = decode(await source.token('prod'));
    expectAcceptedByAuthenticator(decoded, 'prod', 'sts.cn-north-1.amazonaws.com.cn');
    eks.destroy();
  });
});
