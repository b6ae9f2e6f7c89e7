import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ROLLOUT_DETAIL_TYPES } from '../../../contract/event-catalog.js';
import { normalizeNotification } from '../../../lambdas/core/normalize/index.js';
import { JSON_BOUNDS } from '../../../lambdas/core/normalize/json-bounds.js';
import { buildIngestHandler, MAX_ENTRY_BYTES } from '../../../lambdas/ingest/ingest.js';
import { MAX_BODY_BYTES } from '../../../lambdas/ingest/request.js';
import type { IngestResponse } from '../../../lambdas/ingest/responses.js';
import { logger, metrics } from '../../../lambdas/shared/powertools.js';
import {
  BUS,
  context,
  fixture,
  fixtureText,
  functionUrlEvent,
  mockTokens,
  publishedEntries,
  responseBody,
  testHandler,
  VALID_FIXTURES,
} from './support.js';

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

const STEP = 'alb-step-completed-setweight.json';

beforeEach(() => {
  events.reset();
  secrets.reset();
  mockTokens(secrets);
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
  vi.restoreAllMocks();
});

const metricNames = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map(([name]) => name);

describe('method', () => {
  it.each(['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'])(
    '%s → 405 with Allow: POST',
    async (method) => {
      const addMetric = vi.spyOn(metrics, 'addMetric');
      const response = await testHandler().invoke(functionUrlEvent({ method, body: fixtureText(STEP) }));
      expect(response.statusCode).toBe(405);
      expect(response.headers).toMatchObject({ allow: 'POST', 'content-type': 'application/json' });
      expect(responseBody(response).error).toMatch(/POST/);
      expect(metricNames(addMetric)).toEqual(['IngestRejected']);
      expect(events.calls()).toHaveLength(0);
      expect(secrets.calls()).toHaveLength(0);
    },
  );

  it('a lower-case post is still POST', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ method: 'post', body: fixtureText(STEP) }),
    );
    expect(response.statusCode).toBe(202);
  });

  it('something that is not a Function URL request → 400, nothing read or published', async () => {
    for (const event of [
      null,
      'x',
      {},
      { requestContext: {} },
      { requestContext: { http: { method: 7 } } },
    ]) {
      const response = await testHandler().invoke(event);
      expect(response.statusCode).toBe(400);
      expect(responseBody(response).error).toMatch(/Function URL/);
    }
    expect(events.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('body size', () => {
  const padded = (bytes: number) => {
    const text = fixtureText(STEP);
    // Whitespace after the JSON keeps it valid: exactly `bytes` long.
    return text + ' '.repeat(bytes - Buffer.byteLength(text));
  };

  it('exactly 256 KiB is accepted; one byte more is 413', async () => {
    const ok = await testHandler().invoke(functionUrlEvent({ body: padded(MAX_BODY_BYTES) }));
    expect(ok.statusCode).toBe(202);
    events.resetHistory();
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const tooBig = await testHandler().invoke(functionUrlEvent({ body: padded(MAX_BODY_BYTES + 1) }));
    expect(tooBig.statusCode).toBe(413);
    expect(responseBody(tooBig).error).toBe('body is 262145 bytes; the limit is 262144 bytes');
    expect(metricNames(addMetric)).toEqual(['IngestRejected']);
    expect(events.calls()).toHaveLength(0);
  });

  it('is measured on the decoded bytes, not characters or base64 text', async () => {
    // 'é' is 2 bytes in UTF-8: 131,073 characters are 262,146 bytes.
    const multibyte = `"${'é'.repeat(131_072)}"`;
    expect(multibyte.length).toBeLessThan(MAX_BODY_BYTES);
    const plain = await testHandler().invoke(functionUrlEvent({ body: multibyte }));
    expect(plain.statusCode).toBe(413);
    // The base64 text of exactly 256 KiB is 349,528 characters: over the limit as text, not as bytes.
    const exact = padded(MAX_BODY_BYTES);
    const encoded = await testHandler().invoke(functionUrlEvent({ body: exact, base64: true }));
    expect(encoded.statusCode).toBe(202);
    const over = await testHandler().invoke(functionUrlEvent({ body: `${exact} `, base64: true }));
    expect(over.statusCode).toBe(413);
  });

  it('an oversized body from a stranger is 401: authentication comes before the body', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: 'x'.repeat(MAX_BODY_BYTES * 2), token: 'wrong-token-wrong-token' }),
    );
    expect(response.statusCode).toBe(401);
  });
});

describe('JSON', () => {
  it.each([
    ['empty', '', /body is empty/],
    ['whitespace', '  \n', /body is empty/],
    ['truncated', fixtureText(STEP).slice(0, 200), /not valid JSON/],
    ['YAML', 'trigger: on-rollout-step-completed\nrollout: {}', /not valid JSON/],
    [
      'template output with a trailing comma',
      '{"trigger": "on-rollout-updated", "rollout": {},}',
      /not valid JSON/,
    ],
  ])('%s → 400', async (_name, body, message) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body }));
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/json');
    expect(responseBody(response).error).toMatch(message);
    expect(metricNames(addMetric)).toEqual(['IngestRejected']);
    expect(events.calls()).toHaveLength(0);
  });

  it('no body at all → 400', async () => {
    const response = await testHandler().invoke(functionUrlEvent());
    expect(response.statusCode).toBe(400);
  });

  it('base64 bytes that are not UTF-8 → 400', async () => {
    const event = {
      ...functionUrlEvent(),
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
      isBase64Encoded: true,
    };
    const response = await testHandler().invoke(event);
    expect(response.statusCode).toBe(400);
    expect(responseBody(response).error).toBe('body is not valid UTF-8 text');
  });
});

describe('schema', () => {
  it('422 lists exactly the failing paths of a broken body', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: fixtureText('invalid-wrong-types.json') }),
    );
    expect(response.statusCode).toBe(422);
    const body = responseBody(response);
    expect(body.error).toMatch(/does not describe a Rollout/);
    expect(body.issues).toEqual([
      {
        path: 'rollout.spec.replicas',
        message: 'Invalid input: expected number, received string',
        received: '"10"',
      },
      {
        path: 'rollout.spec.strategy.canary.steps[2].setWeight',
        message: 'Invalid input: expected number, received string',
        received: '"40"',
      },
      {
        path: 'rollout.status.currentStepIndex',
        message: 'Invalid input: expected number, received string',
        received: '"2"',
      },
      {
        path: 'rollout.status.canary.weights.verified',
        message: 'Invalid input: expected boolean, received string',
        received: '"true"',
      },
    ]);
    expect(events.calls()).toHaveLength(0);
  });

  it.each([
    ['invalid-missing-uid.json', ['rollout.metadata.uid']],
    ['invalid-bad-revision.json', ['rollout.metadata.annotations["rollout.argoproj.io/revision"]']],
    ['invalid-bad-deadline.json', ['rollout.metadata.annotations["rollout-verifier.io/deadline-seconds"]']],
  ])('%s → 422 at %j', async (name, paths) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: fixtureText(name) }));
    expect(response.statusCode).toBe(422);
    expect((responseBody(response).issues as { path: string }[]).map((issue) => issue.path)).toEqual(paths);
    expect(metricNames(addMetric)).toEqual(['IngestRejected']);
    expect(events.calls()).toHaveLength(0);
  });

  it.each([
    ['a missing trigger', { rollout: fixture(STEP).rollout }, ['trigger']],
    ['a trigger that is not a string', { ...fixture(STEP), trigger: 7 }, ['trigger']],
    ['a template placeholder as trigger', { ...fixture(STEP), trigger: '{{.trigger}}' }, ['trigger']],
    ['no rollout', { trigger: 'on-rollout-updated' }, ['rollout']],
    ['an array', [fixture(STEP)], ['(body)']],
    ['a string', 'on-rollout-updated', ['(body)']],
    ['null', null, ['(body)']],
  ])('%s → 422', async (_name, body, paths) => {
    const response = await testHandler().invoke(functionUrlEvent({ body: JSON.stringify(body) }));
    expect(response.statusCode).toBe(422);
    expect((responseBody(response).issues as { path: string }[]).map((issue) => issue.path)).toEqual(paths);
  });

  it('caps the issues listed and counts the rest', async () => {
    const body = fixture(STEP) as { rollout: { spec: { strategy: { canary: { steps: unknown[] } } } } };
    body.rollout.spec.strategy.canary.steps = Array.from({ length: 80 }, () => ({ setWeight: 'ten' }));
    const response = await testHandler().invoke(functionUrlEvent({ body: JSON.stringify(body) }));
    expect(response.statusCode).toBe(422);
    const parsed = responseBody(response);
    expect(parsed.issues).toHaveLength(50);
    expect(parsed.issuesOmitted).toBe(30);
  });

  it('a body whose normalized event would exceed the EventBridge entry limit → 422, nothing published', async () => {
    const body = fixture(STEP) as {
      rollout: { spec: { strategy: { canary: { trafficRouting: { alb: Record<string, unknown> } } } } };
    };
    // Each ingress name costs more in the event ({"ingress":"…"}) than in the body ("…"); as many as
    // one array may hold.
    const names = Array.from(
      { length: JSON_BOUNDS.maxEntries },
      (_, i) => `ingress-${i.toString(36).padStart(9, '0')}`,
    );
    body.rollout.spec.strategy.canary.trafficRouting.alb.ingresses = names;
    const text = JSON.stringify(body);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const response = await testHandler().invoke(functionUrlEvent({ body: text }));
    expect(response.statusCode).toBe(422);
    expect(responseBody(response).error).toMatch(/EventBridge entry limit/);
    expect(MAX_ENTRY_BYTES).toBe(262_144);
    expect(events.calls()).toHaveLength(0);
  });
});

describe('nesting and size bounds (before JSON.parse and the schema)', () => {
  const ISTIO = 'istio-paused.json';
  /** The Istio fixture with `tlsRoutes` (or another pass-through field) holding `nested`, as text. */
  const withPassThrough = (nested: string, field = 'tlsRoutes') =>
    fixtureText(ISTIO).replace('"routes": [', `"${field}": ${nested}, "routes": [`);
  /**
   * A route list `containers` containers deep, itself and its route counted: `[{"port": 443, "x": [[…]]}]`
   * (arrays: 2 bytes a level, so 100,000 levels fit the 256 KiB body). Around it: body, rollout,
   * spec, strategy, canary, trafficRouting, istio and virtualService, 8.
   */
  const routes = (containers: number) =>
    `[{"port": 443, "x": ${'['.repeat(containers - 2)}${']'.repeat(containers - 2)}}]`;
  const AROUND = 8;
  const TLS_PATH =
    /^rollout\.spec\.strategy\.canary\.trafficRouting\.istio\.virtualService\.tlsRoutes\[0\]\.x(\[0\])+$/;

  it('a body nested exactly to the limit is published', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: withPassThrough(routes(JSON_BOUNDS.maxDepth - AROUND)) }),
    );
    expect(response.statusCode).toBe(202);
    expect(publishedEntries(events)).toHaveLength(1);
  });

  it.each([
    ['one level over the limit', JSON_BOUNDS.maxDepth - AROUND + 1],
    ['5,000 levels (the 500 of issue 13)', 5_000],
    ['100,000 levels', 100_000],
  ])('%s in tlsRoutes → 422 naming the path, nothing published', async (_name, levels) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: withPassThrough(routes(levels)) }));
    expect(response.statusCode).toBe(422);
    const { issues } = responseBody(response) as { issues: { path: string; message: string }[] };
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toMatch(TLS_PATH);
    // The 65th container: 8 around, the list, its route [0], x's array and 54 more arrays below it.
    expect(issues[0]?.path.match(/\[0\]/g)).toHaveLength(1 + JSON_BOUNDS.maxDepth + 1 - AROUND - 3);
    expect(issues[0]?.message).toBe('nests deeper than 64 levels');
    expect(metricNames(addMetric)).toEqual(['IngestRejected']);
    expect(events.calls()).toHaveLength(0);
  });

  it('tcpRoutes and any loose field are bounded alike', async () => {
    for (const field of ['tcpRoutes', 'somethingArgoAddsLater']) {
      const response = await testHandler().invoke(
        functionUrlEvent({ body: withPassThrough(routes(100_000), field) }),
      );
      expect(response.statusCode).toBe(422);
      expect((responseBody(response).issues as { path: string }[])[0]?.path).toContain(
        `virtualService.${field}[0]`,
      );
    }
  });

  it('is checked on the text, before it is parsed: an unterminated 100,000-level body is 422, not 400', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const body = `{"trigger": "on-rollout-updated", "rollout": ${'['.repeat(100_000)}`;
    const response = await testHandler().invoke(functionUrlEvent({ body }));
    expect(response.statusCode).toBe(422);
    expect(parse.mock.calls.filter(([text]) => text === body)).toEqual([]);
  });

  it('too many entries in one array, or too many values in all, → 422 naming where', async () => {
    const many = `[${Array(JSON_BOUNDS.maxEntries + 1)
      .fill('0')
      .join(',')}]`;
    const response = await testHandler().invoke(functionUrlEvent({ body: withPassThrough(many) }));
    expect(response.statusCode).toBe(422);
    expect(responseBody(response).issues).toEqual([
      {
        path: 'rollout.spec.strategy.canary.trafficRouting.istio.virtualService.tlsRoutes',
        message: `has more than ${JSON_BOUNDS.maxEntries} entries`,
      },
    ]);
    const chunks = Array.from(
      { length: 6 },
      () =>
        `[${Array(JSON_BOUNDS.maxEntries - 1)
          .fill('0')
          .join(',')}]`,
    );
    const values = await testHandler().invoke(
      functionUrlEvent({ body: withPassThrough(`[${chunks.join(',')}]`) }),
    );
    expect(values.statusCode).toBe(422);
    expect((responseBody(values).issues as { message: string }[])[0]?.message).toMatch(
      /values a notification may hold/,
    );
  });
});

describe('triggers the verifier does not act on', () => {
  it.each([
    ['on-analysis-run-running', /is not one the verifier acts on/],
    ['on-analysis-run-failed', /is not one the verifier acts on/],
    ['on-scaling-replica-set', /is not one the verifier acts on/],
    [
      'on-rollout-step-complete',
      /unknown trigger "on-rollout-step-complete" \(did you mean "on-rollout-step-completed"\?\)/,
    ],
    [
      'on-something-else',
      /unknown trigger "on-something-else"; the verifier acts on on-rollout-step-completed/,
    ],
  ])('%s → 202 accepted:false, nothing published, IngestIgnoredTriggers', async (trigger, reason) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    // The rest of the body is not even looked at: an analysis run has no rollout snapshot to check.
    const response = await testHandler().invoke(
      functionUrlEvent({ body: JSON.stringify({ trigger, rollout: { whatever: true } }) }),
    );
    expect(response.statusCode).toBe(202);
    const body = responseBody(response);
    expect(body.accepted).toBe(false);
    expect(body.reason).toMatch(reason);
    expect(metricNames(addMetric)).toEqual(['IngestIgnoredTriggers']);
    expect(events.calls()).toHaveLength(0);
  });
});

describe('valid notifications', () => {
  it.each(VALID_FIXTURES)('%s → exactly one PutEvents entry, 202 with its eventId', async (name) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { invoke, clock } = testHandler();
    const response = await invoke(functionUrlEvent({ body: fixtureText(name) }));
    expect(response.statusCode).toBe(202);
    expect(response.headers['content-type']).toBe('application/json');
    const expected = normalizeNotification(fixtureText(name), { receivedAt: new Date(clock.now) });
    expect(responseBody(response)).toEqual({ accepted: true, eventId: expected.eventId });
    const calls = events.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const entries = publishedEntries(events);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry?.Source).toBe('rollout-verifier.ingest');
    expect(entry?.DetailType).toBe(ROLLOUT_DETAIL_TYPES[expected.trigger]);
    expect(entry?.EventBusName).toBe(BUS);
    expect(entry?.detail).toEqual(expected);
    expect(entry?.detail.eventId).toMatch(/^[0-9a-f]{32}$/);
    expect(metricNames(addMetric)).toEqual(['IngestAccepted']);
  });

  it('the same notification twice carries the same eventId (the dedup key)', async () => {
    const { invoke, clock } = testHandler();
    const first = responseBody(await invoke(functionUrlEvent({ body: fixtureText(STEP) })));
    clock.now += 5_000;
    const second = responseBody(await invoke(functionUrlEvent({ body: fixtureText(STEP) })));
    expect(second.eventId).toBe(first.eventId);
    const [a, b] = publishedEntries(events);
    expect(a?.detail.eventId).toBe(b?.detail.eventId);
    expect(a?.detail.receivedAt).not.toBe(b?.detail.receivedAt);
  });

  it('a base64-encoded body (binary content type) is decoded', async () => {
    const response = await testHandler().invoke(functionUrlEvent({ body: fixtureText(STEP), base64: true }));
    expect(response.statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.rollout.name).toBe('checkout');
  });

  it('a UTF-8 byte order mark is tolerated', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: `\uFEFF${fixtureText(STEP)}`, base64: true }),
    );
    expect(response.statusCode).toBe(202);
  });
});

describe('cluster: the one the token is bound to', () => {
  const BLUE = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-token-blue-AbCdEf';
  const GREEN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-token-green-AbCdEf';
  const BLUE_TOKEN = 'blue-token-0123456789abcdefghijklmnopqrstuvw';
  const GREEN_TOKEN = 'green-token-0123456789abcdefghijklmnopqrstuv';
  const twoClusters = () => {
    secrets.reset();
    mockTokens(secrets, { secretId: BLUE, current: BLUE_TOKEN, previous: null });
    mockTokens(secrets, { secretId: GREEN, current: GREEN_TOKEN, previous: null });
    return testHandler({ clusters: { blue: BLUE, green: GREEN } });
  };
  const body = fixtureText(STEP);

  it('comes from the token: no ?cluster= needed', async () => {
    const { invoke } = twoClusters();
    expect((await invoke(functionUrlEvent({ body, token: GREEN_TOKEN }))).statusCode).toBe(202);
    expect((await invoke(functionUrlEvent({ body, token: BLUE_TOKEN }))).statusCode).toBe(202);
    expect(publishedEntries(events).map((entry) => entry.detail.cluster)).toEqual(['green', 'blue']);
  });

  it('?cluster= naming the token’s own cluster is accepted', async () => {
    const { invoke } = twoClusters();
    const response = await invoke(functionUrlEvent({ body, token: BLUE_TOKEN, query: { cluster: 'blue' } }));
    expect(response.statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.cluster).toBe('blue');
  });

  it('a valid token for another cluster → 401, IngestClusterMismatches, logged with both names, nothing published', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    const { invoke } = twoClusters();
    const response = await invoke(functionUrlEvent({ body, token: BLUE_TOKEN, query: { cluster: 'green' } }));
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(metricNames(addMetric)).toEqual(['IngestClusterMismatches']);
    expect(warn).toHaveBeenCalledWith(
      'notification rejected',
      expect.objectContaining({ outcome: 'clusterMismatch', cluster: 'green', tokenClusters: ['blue'] }),
    );
    expect(events.calls()).toHaveLength(0);
  });

  it('each cluster rotates on its own: blue’s previous token still works in its window, for blue only', async () => {
    secrets.reset();
    mockTokens(secrets, {
      secretId: BLUE,
      current: BLUE_TOKEN,
      previous: 'blue-old-token-0123456789abcdefghijk',
    });
    mockTokens(secrets, { secretId: GREEN, current: GREEN_TOKEN, previous: null });
    const { invoke } = testHandler({ clusters: { blue: BLUE, green: GREEN } });
    const old = 'blue-old-token-0123456789abcdefghijk';
    expect((await invoke(functionUrlEvent({ body, token: old }))).statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.cluster).toBe('blue');
    expect(
      (await invoke(functionUrlEvent({ body, token: old, query: { cluster: 'green' } }))).statusCode,
    ).toBe(401);
  });

  it('one cluster’s secret unreadable: the other still authenticates; a token matching nothing is 503, not 401', async () => {
    secrets.reset();
    mockTokens(secrets, { secretId: BLUE, current: BLUE_TOKEN, previous: null });
    secrets
      .on(GetSecretValueCommand, { SecretId: GREEN })
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const { invoke } = testHandler({ clusters: { blue: BLUE, green: GREEN } });
    expect((await invoke(functionUrlEvent({ body, token: BLUE_TOKEN }))).statusCode).toBe(202);
    expect((await invoke(functionUrlEvent({ body, token: GREEN_TOKEN }))).statusCode).toBe(503);
  });

  it('the same token in two clusters’ secrets must name one', async () => {
    secrets.reset();
    mockTokens(secrets, { secretId: BLUE, current: BLUE_TOKEN, previous: null });
    mockTokens(secrets, { secretId: GREEN, current: BLUE_TOKEN, previous: null });
    const { invoke } = testHandler({ clusters: { blue: BLUE, green: GREEN } });
    const ambiguous = await invoke(functionUrlEvent({ body, token: BLUE_TOKEN }));
    expect(ambiguous.statusCode).toBe(400);
    expect(responseBody(ambiguous).error).toMatch(/several clusters: name one/);
    expect(
      (await invoke(functionUrlEvent({ body, token: BLUE_TOKEN, query: { cluster: 'green' } }))).statusCode,
    ).toBe(202);
  });

  it('the earlier single token, bound to one cluster, stamps that cluster and refuses any other', async () => {
    const { invoke } = testHandler({ cluster: 'prod-eu' });
    expect((await invoke(functionUrlEvent({ body }))).statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.cluster).toBe('prod-eu');
    expect((await invoke(functionUrlEvent({ body, query: { cluster: 'staging_2' } }))).statusCode).toBe(401);
  });

  it('the unbound token of a stack without clusters: no cluster on the event, and it may not name one', async () => {
    const { invoke } = testHandler();
    expect((await invoke(functionUrlEvent({ body }))).statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail).not.toHaveProperty('cluster');
    const addMetric = vi.spyOn(metrics, 'addMetric');
    expect((await invoke(functionUrlEvent({ body, query: { cluster: 'prod' } }))).statusCode).toBe(401);
    expect(metricNames(addMetric)).toEqual(['IngestClusterMismatches']);
  });

  it.each([
    ['', /must not be empty/],
    ['prod,staging', /EKS cluster name/],
    ['-prod', /EKS cluster name/],
    ['prod eu', /EKS cluster name/],
    ['a'.repeat(101), /at most 100 characters/],
  ])('?cluster=%j → 400 (after authentication), nothing published', async (cluster, message) => {
    const response = await testHandler({ cluster: 'prod' }).invoke(
      functionUrlEvent({ body, query: { cluster } }),
    );
    expect(response.statusCode).toBe(400);
    expect(responseBody(response).error).toMatch(/^query parameter cluster /);
    expect(responseBody(response).error).toMatch(message);
    expect(events.calls()).toHaveLength(0);
  });

  it('a 100-character name is fine', async () => {
    const cluster = `c${'-'.repeat(98)}1`;
    const response = await testHandler({ cluster }).invoke(functionUrlEvent({ body, query: { cluster } }));
    expect(response.statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.cluster).toBe(cluster);
  });
});

describe('publishing', () => {
  it('PutEvents throwing → 503, IngestPublishFailures, never 2xx', async () => {
    events
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: fixtureText(STEP) }));
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(responseBody(response)).toEqual({ error: 'the event could not be published; retry' });
    expect(metricNames(addMetric)).toEqual(['IngestPublishFailures']);
  });

  it('an entry EventBridge keeps rejecting (FailedEntryCount) → re-sent, then 503', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const response = await testHandler().invoke(functionUrlEvent({ body: fixtureText(STEP) }));
    expect(response.statusCode).toBe(503);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('an entry rejected once and accepted on the re-send → 202', async () => {
    events
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-2' }] });
    const response = await testHandler().invoke(functionUrlEvent({ body: fixtureText(STEP) }));
    expect(response.statusCode).toBe(202);
    const calls = events.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries).toEqual(calls[0]?.args[0].input.Entries);
  });

  it('the token is read once per cache period, not per request', async () => {
    const { invoke } = testHandler();
    for (let i = 0; i < 5; i++) await invoke(functionUrlEvent({ body: fixtureText(STEP) }));
    // AWSCURRENT and AWSPREVIOUS, once.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

describe('a bug is not a client error', () => {
  it('an unexpected exception → 500 and IngestInternalErrors, nothing published, nothing thrown', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const handler = buildIngestHandler({
      settings: { EVENT_BUS_NAME: BUS },
      eventBridge: new EventBridgeClient({}),
      tokens: { lookup: () => Promise.reject(new TypeError('cannot read properties of undefined')) },
    });
    const response = (await handler(
      functionUrlEvent({ body: fixtureText(STEP) }),
      context,
    )) as IngestResponse;
    expect(response.statusCode).toBe(500);
    expect(responseBody(response)).toEqual({ error: 'internal error; see the ingest function log' });
    expect(metricNames(addMetric)).toEqual(['IngestInternalErrors']);
    expect(events.calls()).toHaveLength(0);
  });
});
