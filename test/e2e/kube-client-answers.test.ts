import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObject, listObjects, mergePatch } from '../../lambdas/core/cluster/kube-api.js';
import { HttpsKubeApi } from '../../lambdas/core/cluster/kube-client.js';
import { ApiNotServedError, isKubeStatus, KubeApiError } from '../../lambdas/core/cluster/kube-errors.js';
import { findingFromKubeError } from '../../lambdas/core/cluster/kube-findings.js';
import { ServedResource } from '../../lambdas/core/cluster/served-resources.js';
import { MalformedResponseError } from '../../lambdas/core/malformed-response.js';
import {
  generateClusterCertificates,
  type KubeSim,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { kubeWireFault } from '../support/kube-wire-faults.js';

/**
 * What the production Kubernetes client makes of each kind of answer: only a JSON object is an
 * answer, only a `kind: Status` body is the API server's own failure, and a List has `items`.
 */

const ROLLOUT = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';

let sim: KubeSim;
let proxy: FaultProxy;
let api: HttpsKubeApi;

beforeAll(async () => {
  const certificates = await generateClusterCertificates();
  sim = await startKubeSim({ certificates, objects: [rolloutObject()] });
  proxy = await startFaultProxy({
    upstream: sim.url,
    tls: { keyPem: certificates.keyPem, certPem: certificates.certPem },
    upstreamCaPem: sim.caPem,
  });
  api = new HttpsKubeApi(
    { server: proxy.url, caPem: sim.caPem, token: async () => sim.token },
    { requestTimeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
  );
});

afterAll(async () => {
  api.close();
  await proxy.close();
  await sim.close();
});

/** The error (or value) of one call made while `fault` answers the first matching request(s). */
async function outcomeOf<T>(fault: Fault, call: () => Promise<T>, times = 1): Promise<unknown> {
  const remove = proxy.inject({ fault, times });
  try {
    return await call();
  } catch (error) {
    return error;
  } finally {
    remove();
  }
}

const respond200 = (body: string, contentType = 'application/json'): Fault => ({
  kind: 'respond',
  status: 200,
  contentType,
  body,
});

describe('Kubernetes client: an answer or not', () => {
  it.each([
    ['an HTML page', respond200('<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html')],
    ['truncated JSON', kubeWireFault('truncated JSON', 'get')],
    ['JSON that is not an object', respond200('[]')],
    ['null', respond200('null')],
    ['an empty body', respond200('')],
  ])('HTTP 200 with %s is a MalformedResponse, never an object', async (_, fault) => {
    const error = await outcomeOf(fault, () => getObject(api, ROLLOUT));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ call: `GET ${ROLLOUT}` });
    expect(findingFromKubeError(error, 'rollout/shop/checkout').code).toBe('MalformedResponse');
  });

  it('a List without items is a MalformedResponse; an empty one is a genuine empty list', async () => {
    const error = await outcomeOf(kubeWireFault('HTML 404 or a List without items', 'list'), () =>
      listObjects(api, SLICES),
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    await expect(listObjects(api, SLICES)).resolves.toMatchObject({ items: [] });
  });

  it("a proxy's HTML 404 is not the API server's: not 'no such object'", async () => {
    const error = await outcomeOf(kubeWireFault('HTML 404 or a List without items', 'get'), () =>
      getObject(api, ROLLOUT),
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toContain('HTTP 404 (text/html)');
    expect(isKubeStatus(error, 404)).toBe(false);
    expect(findingFromKubeError(error, 'rollout/shop/checkout').code).toBe('MalformedResponse');
  });

  it("the API server's own 404 (a Status) is", async () => {
    const error = await getObject(api, `${ROLLOUT}-gone`).catch((caught: unknown) => caught);
    expect(isKubeStatus(error, 404)).toBe(true);
    expect(findingFromKubeError(error, 'rollout/shop/checkout-gone').code).toBe('ResourceNotFound');
  });

  it("the API server's '404 page not found' (a version it does not serve) is neither 'no such object' nor a conclusion", async () => {
    const error = await getObject(api, '/apis/argoproj.io/v1beta9/namespaces/shop/rollouts/checkout').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApiNotServedError);
    expect(isKubeStatus(error, 404)).toBe(false);
    expect(findingFromKubeError(error, 'rollout/shop/checkout').code).toBe('MalformedResponse');
  });

  it('a resource read through several served versions skips the unserved one and remembers the one that answered', async () => {
    const rollouts = ServedResource.versions('argoproj.io', 'rollouts', ['v1beta9', 'v1alpha1']);
    const served = await rollouts.get<{ metadata: { name: string } }>(api, 'lab', 'shop', 'checkout');
    expect(served.object.metadata.name).toBe('checkout');
    expect(served.api.version).toBe('v1alpha1');
    expect(rollouts.describe('lab')).toBe('rollouts.argoproj.io/v1alpha1');
    // None served: says which were tried, never "not found".
    const nowhere = ServedResource.versions('argoproj.io', 'rollouts', ['v1beta8', 'v1beta9']);
    const error = await nowhere.get(api, 'lab', 'shop', 'checkout').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiNotServedError);
    expect((error as Error).message).toContain('rollouts.argoproj.io/v1beta8, rollouts.argoproj.io/v1beta9');
    // An object missing under a served version is "no such object", as before.
    const missing = await rollouts.get(api, 'lab', 'shop', 'gone').catch((caught: unknown) => caught);
    expect(isKubeStatus(missing, 404)).toBe(true);
  });

  it("a proxy's HTML 403 is not an RBAC denial", async () => {
    const fault: Fault = {
      kind: 'respond',
      status: 403,
      contentType: 'text/html',
      body: '<h1>Forbidden</h1>',
    };
    const error = await outcomeOf(fault, () => getObject(api, ROLLOUT));
    expect(findingFromKubeError(error, 'rollout/shop/checkout').code).toBe('MalformedResponse');
  });

  it('a 503 page is retried, then an ObservationError naming the status', async () => {
    const error = await outcomeOf(kubeWireFault('HTTP 503 page', 'get'), () => getObject(api, ROLLOUT), 3);
    expect(error).toMatchObject({ name: 'KubeApiError', status: 503 });
    expect(findingFromKubeError(error, 'rollout/shop/checkout').code).toBe('ObservationError');
  });

  it('throttling the deadline cuts short is Throttled; a call in flight at the deadline says "deadline"', async () => {
    // Retry-After: 1 is honoured up to maxDelayMs: the deadline falls in that wait.
    const patient = new HttpsKubeApi(
      { server: proxy.url, caPem: sim.caPem, token: async () => sim.token },
      { maxDelayMs: 5_000 },
    );
    const throttled = await outcomeOf(
      kubeWireFault('throttling', 'get'),
      () => getObject(patient, ROLLOUT, AbortSignal.timeout(500)),
      10,
    );
    patient.close();
    expect(throttled).toMatchObject({ name: 'AbortError', throttledDuringCall: true });
    expect(findingFromKubeError(throttled, 'rollout/shop/checkout').code).toBe('Throttled');

    const hung = await outcomeOf({ kind: 'hang' }, () => getObject(api, ROLLOUT, AbortSignal.timeout(100)));
    expect(findingFromKubeError(hung, 'rollout/shop/checkout')).toMatchObject({
      code: 'ObservationError',
      observed: 'deadline',
    });
  });

  it("a write whose answer was lost is retried, and the retry's 409 says so", async () => {
    const rv = String(
      sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout')?.metadata.resourceVersion,
    );
    const error = await outcomeOf({ kind: 'lose-answer' }, () =>
      mergePatch(api, `${ROLLOUT}/status`, { status: { abort: true }, metadata: { resourceVersion: rv } }),
    );
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 409, afterLostAnswer: true });
  });
});
