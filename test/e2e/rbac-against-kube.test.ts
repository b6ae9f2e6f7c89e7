import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackPolicy } from '../../lambdas/core/callback/policy.js';
import { respondToVerdict } from '../../lambdas/core/callback/respond.js';
import { readServiceEndpoints } from '../../lambdas/core/cluster/endpoints.js';
import { HttpsKubeApi } from '../../lambdas/core/cluster/kube-client.js';
import { DEFAULTS } from '../../lib/settings.js';
import {
  type ClusterCertificates,
  generateClusterCertificates,
  type KubeSim,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';
import { kustomizeBuild, type Manifest, readDocuments, readKustomization } from '../../sim/kustomize.js';
import { rbacAuthorizer } from '../../sim/rbac.js';
import { rolloutEvent } from '../support/rollout-events.js';
import { verdictDetail } from '../support/verdicts.js';

/**
 * The callback's and verify's real Kubernetes calls against kube-sim authorizing with exactly the
 * RBAC objects deploy/cluster builds (sim/rbac.ts decides as the API server's RBAC
 * authorizer does): abort works with the base ClusterRole alone, promote's spec.paused needs the
 * promote component, and the namespaced variant grants in its namespace only.
 */

const CLUSTER_DIR = new URL('../../deploy/cluster/', import.meta.url);
interface Caller {
  user: string;
  groups: string[];
}
const CALLBACK: Caller = { user: 'rollout-verifier-callback', groups: [DEFAULTS.kubernetesGroups.callback] };
const OBSERVER: Caller = { user: 'rollout-verifier-verify', groups: [DEFAULTS.kubernetesGroups.verify] };
const POLICY: CallbackPolicy = {
  abortOnFailure: true,
  abortOnInconclusive: false,
  promoteOnSuccess: true,
  promoteInconclusiveAnalysis: false,
};

const built = (overlay?: Parameters<typeof kustomizeBuild>[1]) =>
  kustomizeBuild(CLUSTER_DIR, overlay).map(({ manifest }) => manifest);
const SETUPS: Record<string, Manifest[]> = {
  'cluster-wide': built(),
  'cluster-wide with promote': built({ ...readKustomization(CLUSTER_DIR), components: ['promote'] }),
  'namespaced in shop, with promote': [
    ...readDocuments(new URL('clusterroles.yaml', CLUSTER_DIR)),
    ...built({
      kind: 'Kustomization',
      namespace: 'shop',
      resources: ['namespaced'],
      components: ['namespaced/promote'],
    }),
  ],
};

let certificates: ClusterCertificates;
let sim: KubeSim;
let api: HttpsKubeApi;

beforeAll(async () => {
  certificates = await generateClusterCertificates();
});

afterEach(async () => {
  api?.close();
  await sim?.close();
});

/** shop/checkout and payments/checkout (spec.paused set: a promote also patches the spec), RBAC of `setup`. */
async function clusterAs(who: Caller, setup: string) {
  const paused = { spec: { paused: true } };
  sim = await startKubeSim({
    certificates,
    user: { user: who.user, groups: [...who.groups, 'system:authenticated'] },
    authorize: rbacAuthorizer(SETUPS[setup] ?? []),
    objects: [rolloutObject(paused), rolloutObject({ ...paused, metadata: { namespace: 'payments' } })],
  });
  api = new HttpsKubeApi(
    { server: sim.url, caPem: sim.caPem, token: async () => sim.token },
    { requestTimeoutMs: 2_000, baseDelayMs: 5, maxDelayMs: 20, rbacHint: 'deploy/cluster' },
  );
}

const verdictIn = (namespace: string, verdict: 'Failed' | 'Succeeded') =>
  verdictDetail({ verdict, rollout: { ...rolloutEvent().rollout, namespace } });
const respond = (namespace: string, verdict: 'Failed' | 'Succeeded') =>
  respondToVerdict(api, verdictIn(namespace, verdict), {
    policy: POLICY,
    instance: 'rollout-verifier-callback',
    now: () => new Date('2026-11-23T09:00:04Z'),
  });
const forbidden = () =>
  sim.requests.filter((request) => request.status === 403).map((r) => `${r.method} ${r.path}`);

describe.each(Object.keys(SETUPS))('%s', (setup) => {
  it('the callback aborts a Failed step in shop: GET, status patch, Events, nothing refused', async () => {
    await clusterAs(CALLBACK, setup);
    expect((await respond('shop', 'Failed')).action).toBe('aborted');
    expect(forbidden()).toEqual([]);
    expect(sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout')?.status).toMatchObject({
      abort: true,
    });
  });

  it('verify lists the EndpointSlices of a Service in shop', async () => {
    await clusterAs(OBSERVER, setup);
    await expect(readServiceEndpoints(api, 'shop', 'checkout-canary')).resolves.toMatchObject({ ready: [] });
    expect(forbidden()).toEqual([]);
  });
});

describe('promote and spec.paused', () => {
  it('without the promote component the pause is cleared but spec.paused is refused, naming the grant', async () => {
    await clusterAs(CALLBACK, 'cluster-wide');
    await expect(respond('shop', 'Succeeded')).rejects.toThrow(
      /forbidden: .*cannot patch resource "rollouts" in API group "argoproj.io".*Grant verb "patch" on "rollouts"/,
    );
    expect(forbidden()).toEqual(['PATCH /apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout']);
  });

  it.each(['cluster-wide with promote', 'namespaced in shop, with promote'])(
    '%s: promoted, spec.paused cleared',
    async (setup) => {
      await clusterAs(CALLBACK, setup);
      expect((await respond('shop', 'Succeeded')).action).toBe('promoted');
      expect(forbidden()).toEqual([]);
      expect(sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout')?.spec).toMatchObject({
        paused: false,
      });
    },
  );

  it('namespaced: nothing at all in a namespace without the bindings', async () => {
    await clusterAs(CALLBACK, 'namespaced in shop, with promote');
    await expect(respond('payments', 'Failed')).rejects.toThrow(/forbidden/);
    expect(forbidden()).toEqual(['GET /apis/argoproj.io/v1alpha1/namespaces/payments/rollouts/checkout']);
  });
});
