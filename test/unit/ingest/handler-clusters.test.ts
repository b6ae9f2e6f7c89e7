import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../../lambdas/shared/powertools.js';
import {
  BUS,
  deployedIngestHandler,
  fixtureText,
  functionUrlEvent,
  mockTokens,
  publishedEntries,
  resetClients,
} from './support.js';

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
  let deployed: Awaited<ReturnType<typeof deployedIngestHandler>>;
  const invoke = (event: unknown) => deployed.invoke(event);

  beforeAll(async () => {
    deployed = await deployedIngestHandler({
      EVENT_BUS_NAME: BUS,
      WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify(SECRETS),
    });
  });

  afterAll(() => deployed.restore());

  beforeEach(() => {
    resetClients(events, secrets, { secretId: SECRETS.blue, current: TOKENS.blue, previous: null });
    mockTokens(secrets, { secretId: SECRETS.green, current: TOKENS.green, previous: null });
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
