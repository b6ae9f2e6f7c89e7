import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bearerTokenOf } from '../../../lambdas/ingest/auth.js';
import { ClusterTokens } from '../../../lambdas/ingest/cluster-tokens.js';
import type { IngestResponse } from '../../../lambdas/ingest/responses.js';
import { digestOf, TokenStore, TokenStoreError } from '../../../lambdas/ingest/token-store.js';
import { logger, metrics } from '../../../lambdas/shared/powertools.js';
import {
  CURRENT_TOKEN,
  fixtureText,
  functionUrlEvent,
  mockTokens,
  PREVIOUS_TOKEN,
  ROTATED_AT,
  responseBody,
  SECRET_ARN,
  testHandler,
} from './support.js';

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

const BODY = fixtureText('alb-step-completed-setweight.json');
const MINUTE = 60_000;

beforeEach(() => {
  events.reset();
  secrets.reset();
  mockTokens(secrets);
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
  vi.restoreAllMocks();
});

afterEach(() => {
  vi.useRealTimers();
});

const authFailures = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.filter(([name]) => name === 'IngestAuthenticationFailures').length;

function expectUnauthorized(response: IngestResponse) {
  expect(response.statusCode).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer');
  expect(response.headers['content-type']).toBe('application/json');
  expect(responseBody(response).error).toMatch(/Authorization: Bearer/);
}

describe('rejected credentials → 401, WWW-Authenticate: Bearer, counted, nothing published', () => {
  it('no Authorization header (Secrets Manager not even asked)', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY, token: null }));
    expectUnauthorized(response);
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['IngestAuthenticationFailures']);
    expect(secrets.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNzd29yZA=='],
    ['Bearer with no token', 'Bearer'],
    ['Bearer and spaces', 'Bearer    '],
    ['two tokens', `Bearer ${CURRENT_TOKEN} ${CURRENT_TOKEN}`],
    ['a repeated header (comma-joined)', `Bearer ${CURRENT_TOKEN},Bearer ${CURRENT_TOKEN}`],
    ['the token without a scheme', CURRENT_TOKEN],
    ['another scheme', `Token ${CURRENT_TOKEN}`],
    ['an oversized token', `Bearer ${'a'.repeat(5000)}`],
  ])('malformed: %s', async (_name, authorization) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY, authorization }));
    expectUnauthorized(response);
    expect(authFailures(addMetric)).toBe(1);
    expect(events.calls()).toHaveLength(0);
  });

  it('an x-api-key header is not a way in', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: BODY, token: null, headers: { 'x-api-key': CURRENT_TOKEN } }),
    );
    expectUnauthorized(response);
  });

  it.each([
    ['a wrong token', 'not-the-token-not-the-token'],
    ['a prefix of the token', CURRENT_TOKEN.slice(0, -1)],
    ['the token plus a character', `${CURRENT_TOKEN}x`],
    ['the token in another case', CURRENT_TOKEN.toUpperCase()],
  ])('%s', async (_name, token) => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY, token }));
    expectUnauthorized(response);
    expect(authFailures(addMetric)).toBe(1);
    expect(events.calls()).toHaveLength(0);
  });

  it('the metric counts every rejection', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { invoke } = testHandler();
    await invoke(functionUrlEvent({ body: BODY, token: null }));
    await invoke(functionUrlEvent({ body: BODY, authorization: 'Basic Zm9vOmJhcg==' }));
    await invoke(functionUrlEvent({ body: BODY, token: 'wrong-wrong-wrong-wrong' }));
    await invoke(functionUrlEvent({ body: BODY }));
    expect(authFailures(addMetric)).toBe(3);
    expect(addMetric.mock.calls.filter(([name]) => name === 'IngestAccepted')).toHaveLength(1);
  });

  it('authentication comes before the body: a stranger with garbage gets 401, not 400', async () => {
    const response = await testHandler().invoke(
      functionUrlEvent({ body: '{not json', token: 'nope-nope-nope-nope' }),
    );
    expectUnauthorized(response);
  });

  it('never logs the presented or the stored token', async () => {
    const logged: unknown[] = [];
    for (const level of ['info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push(args);
      });
    }
    // Even with POWERTOOLS_LOGGER_LOG_EVENT=true: the event holds the Authorization header.
    vi.spyOn(logger, 'getLogEvent').mockReturnValue(true);
    const { invoke, clock } = testHandler();
    await invoke(functionUrlEvent({ body: BODY, token: 'a-secret-guess-0123456789' }));
    await invoke(functionUrlEvent({ body: BODY, authorization: 'Bearer' }));
    await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN }));
    await invoke(functionUrlEvent({ body: BODY }));
    clock.now += 2 * 3_600_000;
    await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN }));
    const text = JSON.stringify(logged);
    expect(logged.length).toBeGreaterThanOrEqual(5);
    for (const secret of ['a-secret-guess-0123456789', PREVIOUS_TOKEN, CURRENT_TOKEN]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('token matches no accepted version');
    expect(text).toContain('malformed Authorization header: Bearer without exactly one token');
  });
});

describe('accepted credentials', () => {
  it('the current token → 202', async () => {
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY }));
    expect(response.statusCode).toBe(202);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('header name and scheme are case-insensitive', async () => {
    const event = functionUrlEvent({ body: BODY, token: null });
    const response = await testHandler().invoke({
      ...event,
      headers: { ...event.headers, AUTHORIZATION: `bearer ${CURRENT_TOKEN}` },
    });
    expect(response.statusCode).toBe(202);
  });

  it('the previous token inside the rotation window → 202, with a warning to update the cluster', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const clock = { now: ROTATED_AT.getTime() + 59 * MINUTE };
    const response = await testHandler({ clock }).invoke(
      functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN }),
    );
    expect(response.statusCode).toBe(202);
    expect(warn.mock.calls.map(([message]) => message)).toContainEqual(
      expect.stringMatching(/previous webhook token/),
    );
  });

  it('the previous token after the rotation window → 401 counted apart (a cluster losing notifications); the current one still works', async () => {
    const clock = { now: ROTATED_AT.getTime() + 61 * MINUTE };
    const { invoke } = testHandler({ clock });
    const addMetric = vi.spyOn(metrics, 'addMetric');
    expectUnauthorized(await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN })));
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['IngestExpiredTokens']);
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(202);
  });

  it('the window closes on time even while the tokens are cached', async () => {
    const clock = { now: ROTATED_AT.getTime() + 59 * MINUTE };
    const { invoke } = testHandler({ clock, cacheTtlMs: 3_600_000 });
    expect((await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN }))).statusCode).toBe(202);
    clock.now = ROTATED_AT.getTime() + 60 * MINUTE;
    expectUnauthorized(await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN })));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('a rotation window of 0 never accepts the previous token', async () => {
    const clock = { now: ROTATED_AT.getTime() + 1_000 };
    const response = await testHandler({ clock, rotationWindowMs: 0 }).invoke(
      functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN }),
    );
    expectUnauthorized(response);
  });

  it('a secret never rotated (no AWSPREVIOUS: ResourceNotFoundException) is normal', async () => {
    secrets.reset();
    mockTokens(secrets, { previous: null });
    const { invoke } = testHandler();
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(202);
    expectUnauthorized(await invoke(functionUrlEvent({ body: BODY, token: PREVIOUS_TOKEN })));
  });

  it('uses the wall clock by default (vi.setSystemTime)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new TokenStore({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ARN,
      cacheTtlMs: 0,
      rotationWindowMs: 60 * MINUTE,
    });
    const versions = async () => (await store.knownTokens()).map((token) => [token.stage, token.expired]);
    vi.setSystemTime(ROTATED_AT.getTime() + 30 * MINUTE);
    expect(await versions()).toEqual([
      ['AWSCURRENT', false],
      ['AWSPREVIOUS', false],
    ]);
    vi.setSystemTime(ROTATED_AT.getTime() + 90 * MINUTE);
    // Still known (a cluster sending it is told apart from a stranger), no longer accepted.
    expect(await versions()).toEqual([
      ['AWSCURRENT', false],
      ['AWSPREVIOUS', true],
    ]);
  });
});

describe('Secrets Manager unavailable → 503, never accept', () => {
  it.each([
    ['AWSCURRENT throttled', 'AWSCURRENT', 'ThrottlingException'],
    ['AWSCURRENT access denied', 'AWSCURRENT', 'AccessDeniedException'],
    ['AWSCURRENT missing (secret deleted)', 'AWSCURRENT', 'ResourceNotFoundException'],
    ['AWSPREVIOUS failing other than not-found', 'AWSPREVIOUS', 'InternalServiceError'],
  ])('%s', async (_name, stage, errorName) => {
    secrets
      .on(GetSecretValueCommand, { VersionStage: stage })
      .rejects(Object.assign(new Error(`${errorName} happened`), { name: errorName }));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY }));
    expect(response.statusCode).toBe(503);
    expect(responseBody(response)).toEqual({ error: 'authentication is unavailable; retry' });
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['IngestTokenStoreFailures']);
    expect(events.calls()).toHaveLength(0);
  });

  it.each([
    ['too short', 'short'],
    ['empty', '   '],
    ['with inner whitespace', 'abcdefgh ijklmnopqrstuvwxyz'],
  ])('an unusable AWSCURRENT value (%s) → 503', async (_name, value) => {
    secrets.reset();
    mockTokens(secrets, { current: value });
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY }));
    expect(response.statusCode).toBe(503);
  });

  it('a binary-only secret → 503', async () => {
    secrets.reset();
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new Uint8Array([1, 2, 3]), CreatedDate: ROTATED_AT });
    const response = await testHandler().invoke(functionUrlEvent({ body: BODY }));
    expect(response.statusCode).toBe(503);
  });

  it('a failure is not cached: the next request reads again and succeeds', async () => {
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: CURRENT_TOKEN, CreatedDate: ROTATED_AT });
    const { invoke } = testHandler();
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(503);
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(202);
  });
});

describe('token cache', () => {
  it('GetSecretValue is not called again within the TTL, and is after it', async () => {
    const { invoke, clock } = testHandler({ cacheTtlMs: 300_000 });
    await invoke(functionUrlEvent({ body: BODY }));
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' },
      { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' },
    ]);
    clock.now += 299_999;
    await invoke(functionUrlEvent({ body: BODY }));
    await invoke(functionUrlEvent({ body: BODY, token: 'wrong-wrong-wrong-wrong' }));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    clock.now += 1;
    await invoke(functionUrlEvent({ body: BODY }));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('a rotated secret is picked up once the cache expires', async () => {
    const { invoke, clock } = testHandler({ cacheTtlMs: 300_000 });
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(202);
    const NEXT = 'next-token-0123456789abcdefghijklmnop';
    secrets.reset();
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: NEXT, CreatedDate: new Date(clock.now) });
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: CURRENT_TOKEN });
    // Still cached: the new token is not known yet.
    expectUnauthorized(await invoke(functionUrlEvent({ body: BODY, token: NEXT })));
    clock.now += 300_000;
    expect((await invoke(functionUrlEvent({ body: BODY, token: NEXT }))).statusCode).toBe(202);
    // The old token stays valid for the rotation window after the new one was created...
    expect((await invoke(functionUrlEvent({ body: BODY }))).statusCode).toBe(202);
    clock.now += 3_600_000;
    // ...and not after.
    expectUnauthorized(await invoke(functionUrlEvent({ body: BODY })));
  });

  it('concurrent requests on a cold cache share one read', async () => {
    const store = new TokenStore({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ARN,
      cacheTtlMs: 300_000,
      rotationWindowMs: 0,
    });
    await Promise.all([store.knownTokens(), store.knownTokens(), store.knownTokens()]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('a TTL of 0 reads on every call', async () => {
    const store = new TokenStore({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ARN,
      cacheTtlMs: 0,
      rotationWindowMs: 0,
    });
    await store.knownTokens();
    await store.knownTokens();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('an unusable AWSPREVIOUS is dropped with a warning, AWSCURRENT still works', async () => {
    secrets.reset();
    mockTokens(secrets, { previous: 'tiny' });
    const warnings: string[] = [];
    const store = new TokenStore({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ARN,
      cacheTtlMs: 300_000,
      rotationWindowMs: 60 * MINUTE,
      now: () => ROTATED_AT.getTime(),
      onWarning: (message) => warnings.push(message),
    });
    expect((await store.knownTokens()).map((token) => token.stage)).toEqual(['AWSCURRENT']);
    expect(warnings).toEqual(['the AWSPREVIOUS webhook token is shorter than 16 characters: not accepted']);
  });

  it('errors are TokenStoreErrors naming the version and the cause', async () => {
    secrets.reset();
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const store = new TokenStore({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ARN,
      cacheTtlMs: 300_000,
      rotationWindowMs: 0,
    });
    const error = await store.knownTokens().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toMatch(
      /cannot read the AWS(CURRENT|PREVIOUS) webhook token: AccessDeniedException: not allowed/,
    );
  });
});

describe('bearerTokenOf and ClusterTokens', () => {
  it('parses exactly one bearer token', () => {
    expect(bearerTokenOf(undefined)).toEqual({ kind: 'missing' });
    expect(bearerTokenOf('')).toEqual({ kind: 'missing' });
    expect(bearerTokenOf('Bearer abc')).toEqual({ kind: 'bearer', token: 'abc' });
    expect(bearerTokenOf('BEARER   abc  ')).toEqual({ kind: 'bearer', token: 'abc' });
    expect(bearerTokenOf('Bearer')).toEqual({
      kind: 'malformed',
      reason: 'Bearer without exactly one token',
      headerLength: 6,
    });
    expect(bearerTokenOf('Basic abc')).toEqual({
      kind: 'malformed',
      reason: 'not the Bearer scheme',
      headerLength: 9,
    });
    expect(bearerTokenOf('Bearer=abc')).toEqual({
      kind: 'malformed',
      reason: 'not the Bearer scheme',
      headerLength: 10,
    });
    expect(bearerTokenOf('Bearer\tabc')).toMatchObject({
      kind: 'malformed',
      reason: 'Bearer without exactly one token',
    });
    expect(bearerTokenOf('Bearer a b')).toMatchObject({
      kind: 'malformed',
      reason: 'Bearer without exactly one token',
    });
  });

  it('names the cluster and version a token matches, or none; an unreadable cluster is reported, not guessed', async () => {
    const versions = (...tokens: Array<[string, boolean]>) => ({
      knownTokens: async () =>
        tokens.map(([token, expired], index) => ({
          stage: index === 0 ? ('AWSCURRENT' as const) : ('AWSPREVIOUS' as const),
          digest: digestOf(token),
          expired,
        })),
    });
    const tokens = new ClusterTokens([
      { cluster: 'blue', tokens: versions(['one-one-one-one-one', false], ['two-two-two-two-two', true]) },
      { cluster: 'green', tokens: versions(['three-three-three-3', false]) },
      { cluster: 'grey', tokens: { knownTokens: () => Promise.reject(new TokenStoreError('throttled')) } },
    ]);
    expect(await tokens.lookup('one-one-one-one-one')).toMatchObject({
      matches: [{ cluster: 'blue', stage: 'AWSCURRENT', expired: false }],
      unreadable: [{ cluster: 'grey' }],
    });
    expect((await tokens.lookup('two-two-two-two-two')).matches).toEqual([
      { cluster: 'blue', stage: 'AWSPREVIOUS', expired: true },
    ]);
    expect((await tokens.lookup('three-three-three-3')).matches).toEqual([
      { cluster: 'green', stage: 'AWSCURRENT', expired: false },
    ]);
    expect((await tokens.lookup('four')).matches).toEqual([]);
    expect(() => new ClusterTokens([])).toThrow(/no webhook token/);
  });
});
