import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readIngestSettings, tokenSecretsOf } from '../../../lambdas/ingest/settings.js';
import {
  BUS,
  deployedIngestHandler,
  fixtureText,
  functionUrlEvent,
  publishedEntries,
  resetClients,
  responseBody,
  SECRET_ARN,
} from './support.js';

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

describe('lambdas/ingest/handler.ts: the deployed wiring', () => {
  let deployed: Awaited<ReturnType<typeof deployedIngestHandler>>;
  const invoke = (event: unknown) => deployed.invoke(event);

  beforeAll(async () => {
    // What lib/ingest.ts sets for a stack that names no cluster, bound here to one as CLUSTER_NAME does.
    deployed = await deployedIngestHandler({
      EVENT_BUS_NAME: BUS,
      WEBHOOK_TOKEN_SECRET_ARN: SECRET_ARN,
      CLUSTER_NAME: 'prod-eu',
    });
  });

  afterAll(() => deployed.restore());

  beforeEach(() => resetClients(events, secrets));

  it('publishes a valid notification on the configured bus, stamped with CLUSTER_NAME', async () => {
    const response = await invoke(
      functionUrlEvent({ body: fixtureText('alb-step-completed-setweight.json') }),
    );
    expect(response.statusCode).toBe(202);
    const [entry] = publishedEntries(events);
    expect(entry).toMatchObject({ EventBusName: BUS, Source: 'rollout-verifier.ingest' });
    expect(entry?.detail.cluster).toBe('prod-eu');
    expect(responseBody(response)).toEqual({ accepted: true, eventId: entry?.detail.eventId });
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ARN,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('keeps the token cache across invocations of a warm container', async () => {
    await invoke(functionUrlEvent({ body: fixtureText('alb-paused.json') }));
    await invoke(functionUrlEvent({ body: fixtureText('alb-resumed.json') }));
    // The first test of this file already filled the cache.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('rejects a stranger', async () => {
    const response = await invoke(functionUrlEvent({ body: '{}', token: 'definitely-not-the-token' }));
    expect(response.statusCode).toBe(401);
    expect(events.calls()).toHaveLength(0);
  });
});

describe('readIngestSettings', () => {
  const base = { EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARN: SECRET_ARN };

  it('applies the defaults', () => {
    expect(readIngestSettings(base)).toEqual({
      ...base,
      WEBHOOK_TOKEN_CACHE_SECONDS: 300,
      WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: 60,
      CLUSTER_NAME: undefined,
      WEBHOOK_TOKEN_SECRET_ARNS: undefined,
      ALLOWED_SOURCE_CIDRS: [],
    });
  });

  it('binds each token secret to its cluster', () => {
    const BLUE = SECRET_ARN.replace('webhook-token', 'blue');
    const bound = {
      EVENT_BUS_NAME: BUS,
      WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ blue: BLUE, green: SECRET_ARN }),
    };
    expect(tokenSecretsOf(readIngestSettings(bound))).toEqual([
      { cluster: 'blue', secretArn: BLUE },
      { cluster: 'green', secretArn: SECRET_ARN },
    ]);
    // The earlier single secret: bound to CLUSTER_NAME, or to no cluster at all.
    expect(tokenSecretsOf(readIngestSettings({ ...base, CLUSTER_NAME: 'prod' }))).toEqual([
      { cluster: 'prod', secretArn: SECRET_ARN },
    ]);
    expect(tokenSecretsOf(readIngestSettings(base))).toEqual([{ cluster: undefined, secretArn: SECRET_ARN }]);
  });

  it('an empty variable is unset (its default applies)', () => {
    expect(
      readIngestSettings({
        ...base,
        WEBHOOK_TOKEN_CACHE_SECONDS: '',
        WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: '',
      }),
    ).toMatchObject({ WEBHOOK_TOKEN_CACHE_SECONDS: 300, WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: 60 });
  });

  it('reads the optional values; an empty CLUSTER_NAME is unset', () => {
    expect(
      readIngestSettings({
        ...base,
        WEBHOOK_TOKEN_CACHE_SECONDS: '60',
        WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: '0',
        CLUSTER_NAME: '',
      }),
    ).toMatchObject({
      WEBHOOK_TOKEN_CACHE_SECONDS: 60,
      WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: 0,
      CLUSTER_NAME: undefined,
    });
  });

  it.each([
    [{}, /EVENT_BUS_NAME: is required/],
    [{ EVENT_BUS_NAME: BUS }, /WEBHOOK_TOKEN_SECRET_ARNS: is required: JSON \{"<cluster>": "<secret ARN>"\}/],
    [
      { ...base, WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ prod: SECRET_ARN }) },
      /WEBHOOK_TOKEN_SECRET_ARN: cannot be set with WEBHOOK_TOKEN_SECRET_ARNS/,
    ],
    [
      {
        EVENT_BUS_NAME: BUS,
        WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ prod: SECRET_ARN }),
        CLUSTER_NAME: 'prod',
      },
      /CLUSTER_NAME: binds WEBHOOK_TOKEN_SECRET_ARN only/,
    ],
    [
      { EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARNS: '{}' },
      /WEBHOOK_TOKEN_SECRET_ARNS: must name at least one cluster/,
    ],
    [
      { EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ 'prod eu': SECRET_ARN }) },
      /WEBHOOK_TOKEN_SECRET_ARNS/,
    ],
    [
      { EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ prod: 'webhook-token' }) },
      /WEBHOOK_TOKEN_SECRET_ARNS.prod: must be a Secrets Manager secret ARN/,
    ],
    [
      { ...base, WEBHOOK_TOKEN_SECRET_ARN: 'webhook-token' },
      /WEBHOOK_TOKEN_SECRET_ARN: must be a Secrets Manager secret ARN/,
    ],
    [{ ...base, WEBHOOK_TOKEN_CACHE_SECONDS: 'five' }, /WEBHOOK_TOKEN_CACHE_SECONDS: must be a whole number/],
    [{ ...base, WEBHOOK_TOKEN_CACHE_SECONDS: '3601' }, /WEBHOOK_TOKEN_CACHE_SECONDS: must be at most 3600/],
    [{ ...base, WEBHOOK_TOKEN_CACHE_SECONDS: '-1' }, /WEBHOOK_TOKEN_CACHE_SECONDS: must not be negative/],
    [
      { ...base, WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: '1.5' },
      /WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: must be a whole number/,
    ],
    [{ ...base, CLUSTER_NAME: 'prod eu' }, /CLUSTER_NAME: must be an EKS cluster name/],
  ])('fails the cold start naming the variable: %j', (env, message) => {
    expect(() => readIngestSettings(env)).toThrow(/^invalid ingest function configuration: /);
    expect(() => readIngestSettings(env)).toThrow(message);
  });
});
