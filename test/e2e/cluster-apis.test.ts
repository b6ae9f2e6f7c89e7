import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterApis, type ClusterConnector } from '../../lambdas/core/cluster/cluster-apis.js';
import { getObject } from '../../lambdas/core/cluster/kube-api.js';
import type { ClusterEndpoint } from '../../lambdas/core/cluster/kube-client.js';
import { rolloutPath } from '../../lambdas/core/cluster/paths.js';
import {
  generateClusterCertificates,
  type KubeSim,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';

let sim: KubeSim;
let validToken = 'token-1';

beforeAll(async () => {
  sim = await startKubeSim({
    certificates: await generateClusterCertificates(),
    authenticate: (token) => (token === validToken ? { user: 'rollout-verifier' } : undefined),
    objects: [rolloutObject()],
  });
});
afterAll(() => sim.close());

/** A connector whose source (a secret, an EKS token cache) hands out whatever token is current once forgotten. */
function connector() {
  let cached: string | undefined;
  const calls = { connect: 0, forget: 0 };
  const value: ClusterConnector & { calls: typeof calls } = {
    calls,
    async connect(): Promise<ClusterEndpoint> {
      calls.connect++;
      cached ??= validToken;
      const token = cached;
      return { server: sim.url, caPem: sim.caPem, token: async () => token };
    },
    forget() {
      calls.forget++;
      cached = undefined;
    },
  };
  return value;
}

describe('ClusterApis', () => {
  it('uses the one configured cluster when an event names none, and refuses any other', async () => {
    const apis = new ClusterApis(connector(), ['prod']);
    await expect(
      getObject(await apis.forCluster(undefined), rolloutPath('shop', 'checkout')),
    ).resolves.toMatchObject({
      metadata: { name: 'checkout' },
    });
    await expect(apis.forCluster('staging')).rejects.toThrow(
      'cluster "staging" is not one of the configured clusters (prod)',
    );
    await expect(new ClusterApis(connector(), ['blue', 'green']).forCluster(undefined)).rejects.toThrow(
      /names no cluster and 2 are configured \(blue, green\): add \?cluster=<name>/,
    );
    apis.close();
  });

  it('keeps one client per cluster and, after a 401, forgets the token and retries once with a fresh one', async () => {
    const source = connector();
    const apis = new ClusterApis(source, ['prod']);
    const api = await apis.forCluster('prod');
    expect(await apis.forCluster('prod')).toBe(api);

    validToken = 'token-2'; // rotated: the cached token-1 is now refused
    await expect(getObject(api, rolloutPath('shop', 'checkout'))).resolves.toMatchObject({ kind: 'Rollout' });
    expect(source.calls.forget).toBe(1);
    expect(sim.requests.slice(-2).map((request) => request.status)).toEqual([401, 200]);
    apis.close();
  });
});
