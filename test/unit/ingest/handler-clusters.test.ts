import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IngestResponse } from '../../../lambdas/ingest/responses.js';
import { metrics } from '../../../lambdas/shared/powertools.js';
import { BUS, context, fixtureText, functionUrlEvent, mockTokens, publishedEntries } from './support.js';

/** lambdas/ingest/handler.ts as the stack deploys it for several clusters: one token secret each. */

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

const SECRETS = {
  blue: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rollout-verifier-webhook-blue-AbCdEf',
  green: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rollout-verifier-webhook-green-AbCdEf',
};
const TOKENS = {
  blue: 'blue-token-0123456789abcdefghijklmnopqrstuvw',
  green: 'green-token-0123456789abcdefghijklmnopqrstuv',
};
const BODY = fixtureText('alb-step-completed-setweight.json');

describe('lambdas/ingest/handler.ts with WEBHOOK_TOKEN_SECRET_ARNS', () => {
  let invoke: (event: unknown) => Promise<IngestResponse>;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.EVENT_BUS_NAME = BUS;
    process.env.WEBHOOK_TOKEN_SECRET_ARNS = JSON.stringify(SECRETS);
    const { handler } = await import('../../../lambdas/ingest/handler.js');
    invoke = (event) => handler(event, context) as Promise<IngestResponse>;
  });

  afterAll(() => {
    process.env = saved;
  });

  beforeEach(() => {
    events.reset();
    secrets.reset();
    for (const cluster of ['blue', 'green'] as const) {
      mockTokens(secrets, { secretId: SECRETS[cluster], current: TOKENS[cluster], previous: null });
    }
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
    vi.restoreAllMocks();
  });

  it('reads each cluster’s secret and stamps the cluster whose token was presented', async () => {
    expect(
      (await invoke(functionUrlEvent({ body: BODY, token: TOKENS.green, query: { cluster: 'green' } })))
        .statusCode,
    ).toBe(202);
    expect((await invoke(functionUrlEvent({ body: BODY, token: TOKENS.blue }))).statusCode).toBe(202);
    expect(publishedEntries(events).map((entry) => entry.detail.cluster)).toEqual(['green', 'blue']);
    expect(
      new Set(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId)),
    ).toEqual(new Set(Object.values(SECRETS)));
  });

  it('refuses blue’s token for green: 401 and IngestClusterMismatches', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const response = await invoke(
      functionUrlEvent({ body: BODY, token: TOKENS.blue, query: { cluster: 'green' } }),
    );
    expect(response.statusCode).toBe(401);
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['IngestClusterMismatches']);
    expect(events.calls()).toHaveLength(0);
  });
});
