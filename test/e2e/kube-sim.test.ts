import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ClusterCertificates,
  generateClusterCertificates,
  type KubeObject,
  type KubeSim,
  type KubeStatus,
  type RolloutObject,
  rolloutCrd,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';

const ROLLOUT = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout';
const ROLLOUTS = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';
const EVENTS = '/api/v1/namespaces/shop/events';
const MERGE = 'application/merge-patch+json';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  /** null: no Authorization header. */
  token?: string | null;
  /** The CA to trust; null: Node's default roots only. */
  ca?: string | null;
  agent?: https.Agent;
  timeoutMs?: number;
}

let certificates: ClusterCertificates;
let sim: KubeSim;

/** One request with node:https, trusting only the cluster CA (as the callback's client does). */
function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = options.token === undefined ? sim.token : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (payload !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const request = https.request(new URL(path, sim.url), {
      method,
      headers,
      ca: options.ca === null ? undefined : (options.ca ?? sim.caPem),
      agent: options.agent ?? false,
      timeout: options.timeoutMs,
    });
    request.on('timeout', () => request.destroy(new Error('client timeout')));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: !text
            ? undefined
            : String(response.headers['content-type']).startsWith('application/json')
              ? JSON.parse(text)
              : text,
        });
      });
    });
    request.end(payload);
  });
}

const stored = () => sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout') as RolloutObject;

function endpointSlice(service: string, name: string, ip: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: 'shop',
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: [ip],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'shop', name: `${service}-6d4f8c9b7-x2k9q` },
      },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

beforeAll(async () => {
  certificates = await generateClusterCertificates();
  sim = await startKubeSim({
    certificates,
    objects: [
      rolloutObject(),
      endpointSlice('checkout', 'checkout-7xq2m', '10.0.1.17'),
      endpointSlice('checkout-canary', 'checkout-canary-b8w4t', '10.0.2.41'),
    ],
  });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

describe('TLS and authentication', () => {
  it('serves HTTPS on 127.0.0.1 with a certificate only the cluster CA vouches for', async () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await call('GET', ROLLOUT)).status).toBe(200);

    // Node's default roots do not know the CA, and neither does a client trusting another cluster's CA.
    await expect(call('GET', ROLLOUT, { ca: null })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const otherCluster = await generateClusterCertificates();
    await expect(call('GET', ROLLOUT, { ca: otherCluster.caPem })).rejects.toMatchObject({
      code: 'CERT_SIGNATURE_FAILURE', // same CA name, different key
    });
    expect(sim.requests).toHaveLength(1);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'stolen'],
  ])('401 Unauthorized with %s', async (_, token) => {
    const reply = await call('GET', ROLLOUT, { token });
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(sim.requests.at(-1)).toMatchObject({ status: 401, user: undefined });
  });

  it('authenticate decides who a token is', async () => {
    const other = await startKubeSim({
      certificates,
      authenticate: (token) =>
        token.startsWith('k8s-aws-v1.') ? { user: 'arn:aws:sts::123456789012:assumed-role/cb/x' } : undefined,
    });
    try {
      const reply = await new Promise<number>((resolve, reject) => {
        https
          .get(
            new URL(`${ROLLOUT}`, other.url),
            { ca: other.caPem, headers: { Authorization: 'Bearer k8s-aws-v1.abc' } },
            (r) => {
              r.resume();
              resolve(r.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      expect(reply).toBe(404);
      expect(other.requests[0]?.user).toBe('arn:aws:sts::123456789012:assumed-role/cb/x');
    } finally {
      await other.close();
    }
  });
});

describe('Rollouts: reads and the status subresource', () => {
  it('the fixture is what Argo writes and validates against the v1.9.1 CRD', () => {
    const rollout = rolloutObject();
    expect(rolloutCrd().prune(rollout, 'v1alpha1').unknownFields).toStrictEqual([]);
    expect(rolloutCrd().validate(rollout, 'v1alpha1')).toStrictEqual([]);
    expect(rollout.status).toMatchObject({
      currentStepIndex: 1,
      controllerPause: true,
      observedGeneration: '3',
      pauseConditions: [{ reason: 'CanaryPauseStep' }],
      phase: 'Paused',
      canary: { weights: { canary: { weight: 20 }, stable: { weight: 80 } } },
    });
    expect(rollout.spec.strategy.canary?.steps).toStrictEqual([
      { setWeight: 20 },
      { pause: { duration: '1m' } },
      { setWeight: 50 },
      { pause: {} },
    ]);
  });

  it('GET the object and GET /status return the whole object', async () => {
    const main = await call('GET', ROLLOUT);
    const status = await call('GET', `${ROLLOUT}/status`);
    expect(main.status).toBe(200);
    expect(status.body).toStrictEqual(main.body);
    expect(main.body).toMatchObject({
      kind: 'Rollout',
      metadata: { name: 'checkout', generation: 3 },
      spec: {},
      status: {},
    });
  });

  it('abort on /status, then spec.paused=false on the object: generation and resourceVersion', async () => {
    const before = stored();
    const rv0 = Number(before.metadata.resourceVersion);

    const aborted = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { abort: true } },
      contentType: MERGE,
    });
    expect(aborted.status).toBe(200);
    const afterAbort = aborted.body as RolloutObject;
    expect(afterAbort.status).toStrictEqual({ ...before.status, abort: true });
    expect(afterAbort.metadata.generation).toBe(3); // status writes never bump generation
    const rv1 = Number(afterAbort.metadata.resourceVersion);
    expect(rv1).toBeGreaterThan(rv0);
    expect(stored()).toStrictEqual(afterAbort);

    const resumed = await call('PATCH', ROLLOUT, { body: { spec: { paused: false } }, contentType: MERGE });
    expect(resumed.status).toBe(200);
    const afterResume = resumed.body as RolloutObject;
    expect(afterResume.spec.paused).toBe(false);
    expect(afterResume.metadata.generation).toBe(4); // spec changed
    expect(Number(afterResume.metadata.resourceVersion)).toBeGreaterThan(rv1);
    expect(afterResume.status).toStrictEqual(afterAbort.status);
    expect(typeof afterResume.metadata.resourceVersion).toBe('string');
  });

  it('the main resource ignores status; a metadata-only change keeps the generation', async () => {
    const before = stored();
    const reply = await call('PATCH', ROLLOUT, {
      body: { metadata: { labels: { team: 'payments' } }, status: { abort: true, pauseConditions: null } },
      contentType: MERGE,
    });
    expect(reply.status).toBe(200);
    const after = reply.body as RolloutObject;
    expect(after.status).toStrictEqual(before.status);
    expect(after.metadata.labels).toMatchObject({ team: 'payments' });
    expect(after.metadata.generation).toBe(3);
    expect(after.metadata.resourceVersion).not.toBe(before.metadata.resourceVersion);
  });

  it('the status subresource ignores spec and metadata; a write that changes nothing keeps the resourceVersion', async () => {
    const before = stored();
    const reply = await call('PATCH', `${ROLLOUT}/status`, {
      body: {
        spec: { replicas: 9 },
        metadata: { labels: { team: 'payments' } },
        status: { pauseConditions: null },
      },
      contentType: MERGE,
    });
    const after = reply.body as RolloutObject;
    expect(after.spec).toStrictEqual(before.spec);
    expect(after.metadata.labels).toStrictEqual(before.metadata.labels);
    expect(after.status?.pauseConditions).toBeUndefined();
    expect(after.metadata.generation).toBe(3);

    const noop = await call('PATCH', `${ROLLOUT}/status`, {
      body: { spec: { replicas: 1 } },
      contentType: MERGE,
    });
    expect(noop.status).toBe(200);
    expect((noop.body as RolloutObject).metadata.resourceVersion).toBe(after.metadata.resourceVersion);
  });
});

describe('Rollouts: create, validation and concurrency', () => {
  it('POST creates (status dropped, server metadata filled); the same name again is 409 AlreadyExists', async () => {
    const body = rolloutObject({
      metadata: { name: 'cart', uid: null, resourceVersion: null, creationTimestamp: null, generation: null },
    });
    const created = await call('POST', ROLLOUTS, { body });
    expect(created.status).toBe(201);
    const object = created.body as RolloutObject;
    expect(object.status).toBeUndefined(); // the status subresource: create cannot set status
    expect(object.metadata).toMatchObject({ name: 'cart', namespace: 'shop', generation: 1 });
    expect(object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(object.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(object.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const again = await call('POST', ROLLOUTS, { body });
    expect(again.status).toBe(409);
    expect(again.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'rollouts.argoproj.io "cart" already exists',
      reason: 'AlreadyExists',
      details: { name: 'cart', group: 'argoproj.io', kind: 'rollouts' },
      code: 409,
    });
  });

  it('422 Invalid on /status names the path, and nothing changes', async () => {
    const before = stored();
    const reply = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { abort: 'yes' } },
      contentType: MERGE,
    });
    expect(reply.status).toBe(422);
    expect(reply.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Rollout.argoproj.io "checkout" is invalid: status.abort: Invalid value: "string": status.abort in body must be of type boolean: "string"',
      reason: 'Invalid',
      details: {
        name: 'checkout',
        group: 'argoproj.io',
        kind: 'Rollout',
        causes: [
          {
            reason: 'FieldValueTypeInvalid',
            message: 'Invalid value: "string": status.abort in body must be of type boolean: "string"',
            field: 'status.abort',
          },
        ],
      },
      code: 422,
    });
    expect(stored()).toStrictEqual(before);
  });

  it('422 lists every failing path of a main-resource patch', async () => {
    const before = stored();
    const reply = await call('PATCH', ROLLOUT, {
      body: {
        spec: {
          replicas: 'three',
          strategy: { canary: { steps: [{ setWeight: 20 }, { pause: { duration: true } }] } },
        },
      },
      contentType: MERGE,
    });
    expect(reply.status).toBe(422);
    const status = reply.body as KubeStatus;
    expect(status.details?.causes?.map((cause) => cause.field)).toStrictEqual([
      'spec.replicas',
      'spec.strategy.canary.steps[1].pause.duration',
    ]);
    expect(status.message).toMatch(
      /^Rollout\.argoproj\.io "checkout" is invalid: \[spec\.replicas: Invalid value/,
    );
    expect(stored()).toStrictEqual(before);
  });

  it('an invalid create stores nothing; a missing required field is FieldValueRequired', async () => {
    const body = rolloutObject({
      metadata: { name: 'broken' },
      spec: { strategy: { canary: { steps: [{ pause: { duration: 1.5 } }] } } },
    });
    delete (body as Partial<RolloutObject>).spec;
    const reply = await call('POST', ROLLOUTS, { body });
    expect(reply.status).toBe(422);
    expect((reply.body as KubeStatus).details?.causes).toStrictEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec' },
    ]);
    expect(sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'broken')).toBeUndefined();
  });

  it('unknown fields: 400 strict decoding error by default, pruned with a Warning under fieldValidation=Warn', async () => {
    const before = stored();
    const strict = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { aborted: true } },
      contentType: MERGE,
    });
    expect(strict.status).toBe(400);
    expect((strict.body as KubeStatus).message).toBe(
      'Rollout in version "v1alpha1" cannot be handled as a Rollout: strict decoding error: unknown field "status.aborted"',
    );
    expect(stored()).toStrictEqual(before);

    const warned = await call('PATCH', `${ROLLOUT}/status?fieldValidation=Warn`, {
      body: { status: { aborted: true, abort: true } },
      contentType: MERGE,
    });
    expect(warned.status).toBe(200);
    expect(warned.headers.warning).toBe('299 - "unknown field \\"status.aborted\\""');
    expect((warned.body as RolloutObject).status).toMatchObject({ abort: true });
    expect((warned.body as RolloutObject).status).not.toHaveProperty('aborted');
  });

  it('409 Conflict when the patch carries a stale resourceVersion; the current one passes', async () => {
    const current = stored().metadata.resourceVersion;
    const stale = await call('PATCH', `${ROLLOUT}/status`, {
      body: { metadata: { resourceVersion: '1' }, status: { abort: true } },
      contentType: MERGE,
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      message:
        'Operation cannot be fulfilled on rollouts.argoproj.io "checkout": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'checkout', group: 'argoproj.io', kind: 'rollouts' },
      code: 409,
    });
    expect(stored().status?.abort).toBeUndefined();

    const fresh = await call('PATCH', `${ROLLOUT}/status`, {
      body: { metadata: { resourceVersion: current }, status: { abort: true } },
      contentType: MERGE,
    });
    expect(fresh.status).toBe(200);
  });

  it('404 NotFound for a missing object, and for paths the server does not serve', async () => {
    const missing = await call('PATCH', `${ROLLOUTS}/payments/status`, {
      body: { status: { abort: true } },
      contentType: MERGE,
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'rollouts.argoproj.io "payments" not found',
      reason: 'NotFound',
      details: { name: 'payments', group: 'argoproj.io', kind: 'rollouts' },
      code: 404,
    });
    const event = await call('GET', `${EVENTS}/nope`);
    expect(event.body).toMatchObject({
      message: 'events "nope" not found',
      details: { name: 'nope', kind: 'events' },
    });
    expect((event.body as KubeStatus).details).not.toHaveProperty('group');

    // Paths no API is served at: the API server's not-found handler, plain text, not a Status.
    for (const path of [
      '/apis/argoproj.io/v1beta9/namespaces/shop/rollouts',
      `${ROLLOUT}/scale`,
      '/healthz',
    ]) {
      const reply = await call('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers['content-type'], path).toBe('text/plain; charset=utf-8');
      expect(reply.body, path).toBe('404 page not found\n');
    }
  });
});

describe('RBAC denials and injected failures', () => {
  it('forbid: 403 worded as RBAC words it, until lifted', async () => {
    const lift = sim.forbid({
      verb: 'patch',
      group: 'argoproj.io',
      resource: 'rollouts',
      subresource: 'status',
    });
    const denied = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { abort: true } },
      contentType: MERGE,
    });
    expect(denied.status).toBe(403);
    expect(denied.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'rollouts.argoproj.io "checkout" is forbidden: User "rollout-verifier" cannot patch resource "rollouts/status" in API group "argoproj.io" in the namespace "shop"',
      reason: 'Forbidden',
      details: { name: 'checkout', group: 'argoproj.io', kind: 'rollouts' },
      code: 403,
    });
    expect(stored().status?.abort).toBeUndefined();
    // Other verbs and the main resource are not affected.
    expect((await call('GET', ROLLOUT)).status).toBe(200);
    expect(
      (await call('PATCH', ROLLOUT, { body: { spec: { paused: false } }, contentType: MERGE })).status,
    ).toBe(200);
    // Still denied the second time, until lifted.
    expect(
      (await call('PATCH', `${ROLLOUT}/status`, { body: { status: { abort: true } }, contentType: MERGE }))
        .status,
    ).toBe(403);
    lift();
    expect(
      (await call('PATCH', `${ROLLOUT}/status`, { body: { status: { abort: true } }, contentType: MERGE }))
        .status,
    ).toBe(200);
  });

  it('forbid on a collection: creating events in the core group', async () => {
    sim.forbid({ verb: 'create', group: '', resource: 'events' });
    const reply = await call('POST', EVENTS, {
      body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' } },
    });
    expect(reply.body).toMatchObject({
      message:
        'events is forbidden: User "rollout-verifier" cannot create resource "events" in API group "" in the namespace "shop"',
      details: { kind: 'events' },
      code: 403,
    });
    expect(sim.events()).toHaveLength(0);
  });

  it('inject 429 with Retry-After, once; then the request goes through', async () => {
    sim.inject({ method: 'PATCH', path: `${ROLLOUT}/status`, status: 429, retryAfterSeconds: 2 });
    const throttled = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { abort: true } },
      contentType: MERGE,
    });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(throttled.body).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Too many requests, please try again later.',
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 2 },
      code: 429,
    });
    expect(stored().status?.abort).toBeUndefined();
    const retried = await call('PATCH', `${ROLLOUT}/status`, {
      body: { status: { abort: true } },
      contentType: MERGE,
    });
    expect(retried.status).toBe(200);
    expect(sim.requests.map((request) => request.status)).toStrictEqual([429, 200]);
  });

  it('inject 503 twice on paths matching a RegExp; other paths are untouched', async () => {
    sim.inject({ path: /\/rollouts\//, status: 503, times: 2 });
    expect((await call('GET', `${SLICES}`)).status).toBe(200);
    expect((await call('GET', ROLLOUT)).body).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    expect((await call('GET', ROLLOUT)).status).toBe(503);
    expect((await call('GET', ROLLOUT)).status).toBe(200);
  });

  it('inject a delay longer than the client timeout', async () => {
    sim.inject({ path: ROLLOUT, delayMs: 300 });
    await expect(call('GET', ROLLOUT, { timeoutMs: 50 })).rejects.toThrow('client timeout');
    // The sim finishes the delayed request on its own (its answer goes nowhere).
    await vi.waitFor(() => expect(sim.requests).toHaveLength(1), { timeout: 2_000 });
    expect((await call('GET', ROLLOUT, { timeoutMs: 1_000 })).status).toBe(200);
  });
});

describe('generic objects, lists and events', () => {
  it('lists with an equality labelSelector, as the verifier reads EndpointSlices', async () => {
    const reply = await call('GET', `${SLICES}?labelSelector=kubernetes.io%2Fservice-name%3Dcheckout-canary`);
    expect(reply.status).toBe(200);
    const list = reply.body as {
      apiVersion: string;
      kind: string;
      metadata: { resourceVersion: string };
      items: KubeObject[];
    };
    expect(list.kind).toBe('EndpointSliceList');
    expect(list.apiVersion).toBe('discovery.k8s.io/v1');
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(list.items.map((item) => item.metadata.name)).toStrictEqual(['checkout-canary-b8w4t']);
    expect(list.items[0]).not.toHaveProperty('kind'); // built-in lists carry no kind/apiVersion per item
    expect(list.items[0]).toMatchObject({
      endpoints: [{ addresses: ['10.0.2.41'], conditions: { ready: true } }],
    });

    const selected = async (selector: string) =>
      (
        (await call('GET', `${SLICES}?labelSelector=${encodeURIComponent(selector)}`)).body as {
          items: KubeObject[];
        }
      ).items.map((item) => item.metadata.name);
    expect(await selected('kubernetes.io/service-name!=checkout-canary')).toStrictEqual(['checkout-7xq2m']);
    expect(
      await selected(
        'kubernetes.io/service-name in (checkout, checkout-canary),endpointslice.kubernetes.io/managed-by',
      ),
    ).toHaveLength(2);
    expect(await selected('!kubernetes.io/service-name')).toStrictEqual([]);
    expect((await call('GET', `${SLICES}?labelSelector=${encodeURIComponent('a b c')}`)).status).toBe(400);
  });

  it('a Rollout list keeps kind and apiVersion on items; an all-namespaces list works', async () => {
    const list = (await call('GET', '/apis/argoproj.io/v1alpha1/rollouts')).body as {
      kind: string;
      items: KubeObject[];
    };
    expect(list.kind).toBe('RolloutList');
    expect(list.items[0]).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
  });

  it('creates Events (generateName) and records every request', async () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: 'checkout.', namespace: 'shop' },
      involvedObject: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: 'checkout',
        namespace: 'shop',
        uid: '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f',
      },
      reason: 'VerificationSucceeded',
      message: 'ALB carries 20% to healthy canary targets on 2 listener rules',
      type: 'Normal',
      source: { component: 'rollout-verifier' },
      count: 1,
    };
    const reply = await call('POST', `${EVENTS}?fieldManager=rollout-verifier`, { body: event });
    expect(reply.status).toBe(201);
    const created = reply.body as KubeObject;
    expect(created.metadata.name).toMatch(/^checkout\.[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(created.metadata).not.toHaveProperty('generation');
    expect(sim.events('shop')).toStrictEqual([created]);
    expect(sim.events('pay')).toStrictEqual([]);
    expect(sim.list('events')).toHaveLength(1);
    expect(sim.requests).toStrictEqual([
      {
        method: 'POST',
        path: EVENTS,
        query: { fieldManager: 'rollout-verifier' },
        contentType: 'application/json',
        body: event,
        status: 201,
        user: 'rollout-verifier',
      },
    ]);
  });

  it('a namespace in the body must match the URL (400)', async () => {
    const reply = await call('POST', EVENTS, {
      body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x', namespace: 'pay' } },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({
      message: 'the namespace of the provided object does not match the namespace sent on the request',
      reason: 'BadRequest',
    });
  });

  it('415 for patch types other than merge patch, 405 for PUT, 413 above 3 MiB', async () => {
    const jsonPatch = await call('PATCH', ROLLOUT, {
      body: [{ op: 'replace', path: '/spec/paused', value: false }],
      contentType: 'application/json-patch+json',
    });
    expect(jsonPatch.status).toBe(415);
    expect(jsonPatch.body).toMatchObject({
      reason: 'UnsupportedMediaType',
      message:
        'the body of the request was in an unknown format - accepted media types include: application/merge-patch+json',
    });
    const put = await call('PUT', ROLLOUT, { body: rolloutObject() });
    expect(put.status).toBe(405);
    expect(put.body).toMatchObject({
      reason: 'MethodNotAllowed',
      message: 'update is not supported on resources of kind "rollouts.argoproj.io"',
    });
    const huge = await call('POST', EVENTS, { rawBody: `{"padding":"${'x'.repeat(3 * 1024 * 1024)}"}` });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
  });

  it('DELETE removes an object and returns it', async () => {
    const reply = await call('DELETE', `${SLICES}/checkout-7xq2m`);
    expect(reply.status).toBe(200);
    expect(sim.list('endpointslices').map((slice) => slice.metadata.name)).toStrictEqual([
      'checkout-canary-b8w4t',
    ]);
    expect((await call('DELETE', `${SLICES}/checkout-7xq2m`)).status).toBe(404);
  });

  it('put seeds any object (plural derived from the kind) and refuses a Rollout its CRD rejects', () => {
    sim.put({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: {},
    });
    expect(
      sim.object('networking.istio.io/v1beta1', 'virtualservices', 'shop', 'checkout')?.metadata.generation,
    ).toBe(1);
    expect(() => sim.put(rolloutObject({ status: { abort: 'yes' } }))).toThrow(
      /status\.abort: Invalid value/,
    );
  });

  it('reset restores the seeded objects and forgets requests, injections and denials', async () => {
    await call('PATCH', ROLLOUT, { body: { spec: { paused: false } }, contentType: MERGE });
    sim.inject({ status: 500 });
    sim.forbid({ verb: '*', group: 'argoproj.io', resource: 'rollouts' });
    sim.reset();
    expect(sim.requests).toHaveLength(0);
    expect(stored().spec.paused).toBeUndefined();
    expect((await call('GET', ROLLOUT)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('close() ends keep-alive connections too', async () => {
    const second = await startKubeSim({ certificates });
    expect(second.timings.certificatesMs).toBe(0);
    const agent = new https.Agent({ keepAlive: true, ca: second.caPem });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(
            new URL('/api/v1/namespaces/shop/events', second.url),
            { agent, headers: { Authorization: `Bearer ${second.token}` } },
            (r) => {
              r.resume();
              r.on('end', () => resolve(r.statusCode ?? 0));
            },
          )
          .on('error', reject);
      });
      expect(status).toBe(200);
      const started = performance.now();
      await second.close();
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      agent.destroy();
    }
  });
});
