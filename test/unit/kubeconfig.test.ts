import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { endpointFromKubeconfig } from '../../cli/kubeconfig.js';
import { kubeconfigFiles } from '../../cli/kubeconfig-files.js';

/** Loading and merging kubeconfigs as kubectl does, and what the CLI refuses by name. */

const dir = mkdtempSync(join(tmpdir(), 'rv-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CA_A = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n';
const CA_B = '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n';
const base64 = (text: string) => Buffer.from(text).toString('base64');

interface Config {
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: { cluster: string; user?: string } }>;
}

let files = 0;
function write(config: Config, folder = dir): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `config-${++files}`);
  writeFileSync(file, stringify(config));
  return file;
}

const cluster = (name: string, server: string, ca = CA_A) => ({
  name,
  cluster: { server, 'certificate-authority-data': base64(ca) },
});
const tokenUser = (name: string, token: string) => ({ name, user: { token } });
const context = (name: string, clusterName: string, user: string) => ({
  name,
  context: { cluster: clusterName, user },
});
const withKubeconfig = (...paths: string[]) => ({ KUBECONFIG: paths.join(delimiter), HOME: dir });

describe('$KUBECONFIG with several files, merged as kubectl merges them', () => {
  const first = write({
    'current-context': 'one',
    clusters: [cluster('shared', 'https://first.example:6443')],
    users: [tokenUser('me', 'first-token')],
    contexts: [context('one', 'shared', 'me')],
  });
  const second = write({
    'current-context': 'two',
    clusters: [cluster('shared', 'https://second.example:6443', CA_B), cluster('own', 'https://own.example')],
    users: [tokenUser('me', 'second-token'), tokenUser('other', 'other-token')],
    contexts: [
      context('two', 'shared', 'other'),
      context('three', 'own', 'me'),
      context('one', 'own', 'other'),
    ],
  });

  it('takes current-context from the first file that sets one', async () => {
    const endpoint = await endpointFromKubeconfig({ env: withKubeconfig(first, second) });
    expect(endpoint.server).toBe('https://first.example:6443');
    expect(await endpoint.token()).toBe('first-token');
  });

  it('lets the first file that names a cluster, user or context keep it, and finds the others in later files', async () => {
    const two = await endpointFromKubeconfig({ env: withKubeconfig(first, second), context: 'two' });
    // Context "two" is only in the second file; cluster "shared" and its CA are the first file's.
    expect(two.server).toBe('https://first.example:6443');
    expect(two.caPem).toBe(CA_A);
    expect(await two.token()).toBe('other-token');
    const three = await endpointFromKubeconfig({ env: withKubeconfig(first, second), context: 'three' });
    expect(three.server).toBe('https://own.example');
    expect(await three.token()).toBe('first-token');
  });

  it('reads current-context from a later file when the earlier ones set none', async () => {
    const clustersOnly = write({ clusters: [cluster('shared', 'https://clusters-only.example')] });
    const endpoint = await endpointFromKubeconfig({ env: withKubeconfig(clustersOnly, second) });
    expect(endpoint.server).toBe('https://clusters-only.example');
    expect(await endpoint.token()).toBe('other-token');
  });

  it('skips missing files and empty list entries, and reads a repeated file once', () => {
    const missing = join(dir, 'missing');
    expect(
      kubeconfigFiles(undefined, { KUBECONFIG: ['', first, missing, first, '', second].join(delimiter) }),
    ).toEqual([first, missing, second]);
    return expect(
      endpointFromKubeconfig({ env: withKubeconfig(missing, second), context: 'three' }).then(
        (e) => e.server,
      ),
    ).resolves.toBe('https://own.example');
  });

  it('fails naming the files when none of them exists', async () => {
    const missing = join(dir, 'nope-1');
    await expect(endpointFromKubeconfig({ env: withKubeconfig(missing) })).rejects.toThrow(
      `no kubeconfig: none of ${missing} exists`,
    );
  });

  it('--kubeconfig reads that file alone, and a missing one is an error', async () => {
    const endpoint = await endpointFromKubeconfig({ path: second, env: withKubeconfig(first) });
    expect(endpoint.server).toBe('https://second.example:6443');
    await expect(endpointFromKubeconfig({ path: join(dir, 'absent') })).rejects.toThrow(
      'cannot read the kubeconfig',
    );
  });

  it('without $KUBECONFIG reads ~/.kube/config', () => {
    expect(kubeconfigFiles(undefined, { HOME: '/home/op' })).toEqual(['/home/op/.kube/config']);
  });

  it('resolves relative paths against the folder of the file that holds the entry', async () => {
    const folder = join(dir, 'elsewhere');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'ca.crt'), CA_B);
    writeFileSync(join(folder, 'token'), 'file-token\n');
    const relative = write(
      {
        clusters: [
          { name: 'rel', cluster: { server: 'https://rel.example', 'certificate-authority': 'ca.crt' } },
        ],
        users: [{ name: 'rel', user: { tokenFile: 'token' } }],
        contexts: [context('rel', 'rel', 'rel')],
      },
      folder,
    );
    const endpoint = await endpointFromKubeconfig({ env: withKubeconfig(first, relative), context: 'rel' });
    expect(endpoint.caPem).toBe(CA_B);
    expect(await endpoint.token()).toBe('file-token');
  });
});

describe('what the CLI cannot do as kubectl would is refused, naming the field', () => {
  const single = (clusterFields: Record<string, unknown>, user: Record<string, unknown> = { token: 't' }) =>
    write({
      'current-context': 'x',
      clusters: [
        {
          name: 'x',
          cluster: {
            server: 'https://x.example',
            'certificate-authority-data': base64(CA_A),
            ...clusterFields,
          },
        },
      ],
      users: [{ name: 'u', user }],
      contexts: [context('x', 'x', 'u')],
    });

  it.each([
    [{ 'proxy-url': 'http://proxy.corp:3128' }, 'kubeconfig cluster "x" sets proxy-url: not supported'],
    [
      { 'tls-server-name': 'kubernetes.default' },
      'kubeconfig cluster "x" sets tls-server-name: not supported',
    ],
  ])('cluster %j', async (fields, message) => {
    await expect(endpointFromKubeconfig({ path: single(fields) })).rejects.toThrow(message);
  });

  it.each([
    [
      { 'auth-provider': { name: 'gcp', config: {} } },
      'kubeconfig user "u" uses auth-provider "gcp": not supported',
    ],
    [{ username: 'admin', password: 'secret' }, 'kubeconfig user "u" sets username/password'],
    [
      { token: 't', as: 'system:admin', 'as-groups': ['system:masters'] },
      'kubeconfig user "u" sets as, as-groups',
    ],
  ])('user %j', async (user, message) => {
    await expect(endpointFromKubeconfig({ path: single({}, user) })).rejects.toThrow(message);
  });
});

describe('auth-provider oidc', () => {
  const NOW = Date.parse('2025-11-03T10:00:00Z');
  const jwt = (claims: Record<string, unknown>) =>
    ['{"alg":"RS256"}', JSON.stringify(claims), 'signature']
      .map((part, index) => (index < 2 ? Buffer.from(part).toString('base64url') : part))
      .join('.');
  const oidcConfig = (config: Record<string, string>) =>
    write({
      'current-context': 'x',
      clusters: [cluster('x', 'https://x.example')],
      users: [{ name: 'dev', user: { 'auth-provider': { name: 'oidc', config } } }],
      contexts: [context('x', 'x', 'dev')],
    });

  it('sends a valid id-token as the bearer token', async () => {
    const idToken = jwt({ sub: 'dev', exp: NOW / 1000 + 600 });
    const endpoint = await endpointFromKubeconfig({
      path: oidcConfig({ 'id-token': idToken, 'idp-issuer-url': 'https://idp.example' }),
      now: () => NOW,
    });
    expect(await endpoint.token()).toBe(idToken);
  });

  it('refuses an expired id-token, saying how to refresh it', async () => {
    const endpoint = await endpointFromKubeconfig({
      path: oidcConfig({ 'id-token': jwt({ exp: NOW / 1000 - 60 }), 'refresh-token': 'r' }),
      now: () => NOW,
    });
    await expect(endpoint.token()).rejects.toThrow(
      'kubeconfig user "dev": the auth-provider oidc id-token expired at 2025-11-03T09:59:00.000Z; the CLI does not refresh OIDC tokens',
    );
  });

  it('refuses a missing or unreadable id-token', async () => {
    await expect(
      (await endpointFromKubeconfig({ path: oidcConfig({ 'client-id': 'k' }), now: () => NOW })).token(),
    ).rejects.toThrow('auth-provider oidc has no config.id-token');
    await expect(
      (await endpointFromKubeconfig({ path: oidcConfig({ 'id-token': 'opaque' }), now: () => NOW })).token(),
    ).rejects.toThrow('config.id-token is not a JWT with an exp');
  });
});
