import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STATE_KEY_PREFIXES } from '../../contract/state-table.js';
import {
  generateClusterCertificates,
  type KubeSim,
  rolloutObject,
  startKubeSim,
} from '../../sim/kube/index.js';
import { type SecretsManagerSim, startSecretsManagerSim } from '../../sim/secrets-manager.js';
import { inMemoryIdempotencyTable } from '../support/idempotency-table.js';
import { eventBridgeEnvelope } from '../support/rollout-events.js';
import { verdictDetail } from '../support/verdicts.js';

/**
 * The callback Lambda module as deployed: configuration from the environment, the cluster reached
 * through a connection secret (server, CA, token) read from Secrets Manager over HTTP, the
 * Kubernetes API over HTTPS trusting only that CA, Powertools idempotency on the verdictId.
 */

const dynamo = mockClient(DynamoDBClient);
const context = {
  getRemainingTimeInMillis: () => 30_000,
  functionName: 'rollout-verifier-callback',
  awsRequestId: 'req-1',
} as unknown as Context;

let kube: KubeSim;
let secrets: SecretsManagerSim;
let callback: typeof import('../../lambdas/callback/handler.js').handler;
const invoke = (detail: unknown) =>
  callback(eventBridgeEnvelope(detail, 'Rollout Verification Failed') as never, context);

beforeAll(async () => {
  kube = await startKubeSim({ certificates: await generateClusterCertificates(), token: 'callback-token' });
  secrets = await startSecretsManagerSim(
    JSON.stringify({
      server: kube.url,
      certificateAuthorityData: Buffer.from(kube.caPem).toString('base64'),
      token: 'callback-token',
    }),
    { name: 'rollout-verifier-cluster-prod' },
  );
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    CLUSTER_SECRET_ARNS: JSON.stringify({ prod: secrets.secretArn }),
    STATE_TABLE_NAME: 'rollout-verifier-state',
    ON_FAILURE: 'abort',
    KUBE_REQUEST_TIMEOUT_MS: '2000',
  });
  ({ handler: callback } = await import('../../lambdas/callback/handler.js'));
});

afterAll(async () => {
  await Promise.all([kube.close(), secrets.close()]);
});

let table: Map<string, Record<string, unknown>>;

beforeEach(() => {
  dynamo.reset();
  table = inMemoryIdempotencyTable(dynamo);
  kube.reset();
  kube.put(rolloutObject());
});

const patches = () => kube.requests.filter((request) => request.method === 'PATCH');

describe('callback handler', () => {
  it('aborts once for a verdict delivered twice: the second delivery gets the stored outcome', async () => {
    const verdict = verdictDetail({ verdict: 'Failed' });
    const first = await invoke(verdict);
    const second = await invoke(verdict);

    expect(first).toMatchObject({ action: 'aborted', eventsCreated: 2 });
    expect(second).toEqual(first);
    expect(patches()).toHaveLength(1);
    expect(kube.requests.every((request) => request.user === 'rollout-verifier')).toBe(true);
    expect(kube.events('shop')).toHaveLength(2);
    // The only keys the callback role may write (dynamodb:LeadingKeys, lib/state-table.ts).
    expect([...table.keys()]).toEqual([
      expect.stringMatching(new RegExp(`^${STATE_KEY_PREFIXES.callback}#`)),
    ]);
  });

  it('refuses an invalid verdict before touching the cluster', async () => {
    await expect(
      invoke({ ...verdictDetail({ verdict: 'Failed' }), rollout: { namespace: 'Shop/../kube-system' } }),
    ).rejects.toThrow(/invalid verdict event/);
    expect(kube.requests).toEqual([]);
  });

  it('refuses a verdict about a cluster it was not given, naming the fix', async () => {
    await expect(invoke(verdictDetail({ verdict: 'Failed', cluster: 'staging' }))).rejects.toThrow(
      'cluster "staging" is not one of the configured clusters (prod)',
    );
    expect(kube.requests).toEqual([]);
  });

  it('a failed attempt is forgotten, so Lambda’s retry acts', async () => {
    kube.inject({ method: 'PATCH', status: 500, times: 4 });
    await expect(invoke(verdictDetail({ verdict: 'Failed' }))).rejects.toMatchObject({ status: 500 });
    expect(await invoke(verdictDetail({ verdict: 'Failed' }))).toMatchObject({ action: 'aborted' });
  });
});
