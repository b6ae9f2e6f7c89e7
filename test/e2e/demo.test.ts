import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, renderDemo, runDemo } from '../../demo/run.js';
import { createEksToken } from '../../lambdas/core/cluster/eks-token.js';
import { startDynamoDbSim } from '../support/dynamodb-sim.js';
import { eksAuthenticator, type IamIdentity, startEksSim } from '../support/eks-sim.js';

/**
 * `npm run demo` in CI: every scenario through the real ingest, verify and callback handlers, on
 * loopback simulators only (ELBv2, EventBridge, Secrets Manager, EKS, DynamoDB, kube-sim).
 */
describe('npm run demo', () => {
  let result: DemoResult;
  beforeAll(async () => {
    // The demo's own deadline: room for a Describe* call throttled by the shared ELBv2 budget.
    result = await runDemo({ deadlineSeconds: 3 });
  }, 60_000);

  const scenario = (rollout: string) => {
    const found = result.scenarios.find((candidate) => candidate.rollout === rollout);
    if (!found) throw new Error(`no scenario for ${rollout}`);
    return found;
  };

  it('reaches the expected verdicts and cluster actions in every scenario', () => {
    expect(
      result.scenarios.map(({ name, got, actions, ok, problem }) => ({ name, got, actions, ok, problem })),
    ).toEqual([
      {
        name: 'healthy canary 20 → 50 → 100, promoted by the verifier at each pause',
        got: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
        actions: ['promoted', 'promoted', 'none', 'none'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'weights never applied (controller throttled) → aborted',
        got: ['Failed', 'Succeeded'],
        actions: ['aborted', 'none'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'unhealthy canary targets → aborted',
        got: ['Failed', 'Succeeded'],
        actions: ['aborted', 'none'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'half-registered target group (controller lags) → aborted',
        got: ['Failed', 'Succeeded'],
        actions: ['aborted', 'none'],
        ok: true,
        problem: undefined,
      },
      {
        name: 'AccessDenied → Inconclusive: no abort, the alarm metric',
        got: ['Inconclusive'],
        actions: ['none'],
        ok: true,
        problem: undefined,
      },
      { name: 'blue-green switch', got: ['Succeeded'], actions: ['none'], ok: true, problem: undefined },
      {
        name: 'duplicate deliveries → one verification, one action',
        got: ['Succeeded', 'Succeeded'],
        actions: ['promoted', 'none'],
        ok: true,
        problem: undefined,
      },
      {
        name: "a stranger's POST → 401, nothing published",
        got: [],
        actions: [],
        ok: true,
        problem: undefined,
      },
    ]);
    expect(result.ok).toBe(true);
    expect(renderDemo(result)).toContain(
      '8 of 8 scenarios reached the expected verdicts and cluster actions',
    );
  });

  it('names the finding that caught each failed rollout', () => {
    expect(scenario('shop/cart').findings).toContain('WeightMismatch');
    expect(scenario('shop/search').findings).toContain('UnhealthyTargets');
    expect(scenario('shop/inventory').findings).toContain('TargetNotRegistered');
    expect(scenario('shop/payments').findings).toEqual(['AccessDenied']);
  });

  it('aborts with a merge patch on the status subresource and says why in Events on the Rollout', () => {
    for (const [rollout, reason] of [
      ['shop/cart', 'WeightMismatch'],
      ['shop/search', 'UnhealthyTargets'],
      ['shop/inventory', 'TargetNotRegistered'],
    ] as const) {
      const [failed] = scenario(rollout).callbacks;
      expect(failed?.patches).toEqual([{ subresource: 'status', patch: { status: { abort: true } } }]);
      expect(failed?.events.map((event) => `${event.type} ${event.reason}`)).toEqual(
        expect.arrayContaining([`Warning ${reason}`, 'Warning AbortedByVerifier']),
      );
      expect(result.rollouts.find((state) => state.rollout === rollout)).toMatchObject({
        phase: 'Degraded',
        abort: true,
      });
    }
    // Inconclusive: an Event, never an abort
    const [inconclusive] = scenario('shop/payments').callbacks;
    expect(inconclusive?.patches).toEqual([]);
    expect(inconclusive?.events.map((event) => event.reason)).toEqual(['AccessDenied']);
    expect(result.rollouts.find((state) => state.rollout === 'shop/payments')).toMatchObject({
      abort: false,
      pauseConditions: ['CanaryPauseStep'],
    });
  });

  it('promotes by clearing the pause, and Argo carries the rollout through to fully promoted', () => {
    const promotions = scenario('shop/checkout').callbacks.filter((record) => record.action === 'promoted');
    expect(promotions.map((record) => record.patches)).toEqual([
      [{ subresource: 'status', patch: { status: { pauseConditions: null } } }],
      [{ subresource: 'status', patch: { status: { pauseConditions: null } } }],
    ]);
    expect(result.rollouts.find((state) => state.rollout === 'shop/checkout')).toMatchObject({
      phase: 'Healthy',
      abort: false,
      currentStepIndex: 5,
      pauseConditions: [],
    });
    const checkout = result.rollouts.find((state) => state.rollout === 'shop/checkout');
    expect(checkout?.stableRS).toBe(checkout?.currentPodHash);
  });

  it('verifies a duplicated notification once and acts on a twice-delivered verdict once', () => {
    const orders = scenario('shop/orders');
    // two notifications (step 0, completed), each posted twice; two verdicts, each delivered twice
    expect(orders.got).toHaveLength(2);
    expect(orders.callbacks.map((record) => [record.action, record.replayed])).toEqual([
      ['promoted', false],
      ['promoted', true],
      ['none', false],
      ['none', true],
    ]);
    expect(
      orders.callbacks.filter((record) => record.replayed).every((record) => record.patches.length === 0),
    ).toBe(true);
  });

  it('emits the metrics the alarms watch', () => {
    expect(scenario('shop/payments').alarms).toEqual(['VerificationInconclusive']);
    expect(scenario('shop/payments').metrics.VerificationInconclusive).toBe(1);
    expect(scenario('shop/cart').alarms).toEqual(['VerificationFailed']);
    expect(scenario('shop/ledger').alarms).toEqual(['IngestAuthenticationFailures']);
    expect(scenario('shop/checkout').alarms).toEqual([]);
  });

  it('reaches the cluster as EKS does: DescribeCluster, then each function with its own token and rights', () => {
    const { kubernetes, eks } = result.calls;
    expect(Object.keys(kubernetes).sort()).toEqual(['rollout-verifier-callback', 'rollout-verifier-verify']);
    // the observer only reads EndpointSlices; the callback only reads and patches Rollouts and creates Events
    expect(Object.keys(kubernetes['rollout-verifier-verify'] ?? {})).toEqual(['list endpointslices']);
    expect(Object.keys(kubernetes['rollout-verifier-callback'] ?? {}).sort()).toEqual([
      'create events',
      'get rollouts',
      'patch rollouts/status',
    ]);
    // one DescribeCluster per function container (cached for 10 minutes)
    expect(eks).toEqual({
      'DescribeCluster by rollout-verifier-verify': 1,
      'DescribeCluster by rollout-verifier-callback': 1,
    });
  });

  it('contacts nothing outside 127.0.0.1', () => {
    expect(result.network.connections).toBeGreaterThan(0);
    expect(result.network.outsideLoopback).toEqual([]);
  });
});

/** The stand-ins the demo trusts must refuse what AWS and EKS refuse, or the demo proves nothing. */
describe("the demo's AWS and EKS stand-ins", () => {
  const verifyRole: IamIdentity = {
    accessKeyId: 'AKIAEXAMPLEVERIFY001',
    secretAccessKey: 'verify-secret-key-0123456789abcdefghijkl',
    roleName: 'rollout-verifier-verify',
    sessionName: 'rollout-verifier-verify',
    kubernetesGroups: ['rollout-verifier-observer'],
  };
  const signing = { accessKeyId: verifyRole.accessKeyId, secretAccessKey: verifyRole.secretAccessKey };

  it('authenticates an EKS token as aws-iam-authenticator and STS do', async () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const authenticator = eksAuthenticator({
      clusterName: 'demo',
      region: 'eu-west-1',
      identities: [verifyRole],
      now: () => now,
    });
    const token = async (options: { clusterName?: string; secretAccessKey?: string; at?: Date }) =>
      (
        await createEksToken({
          clusterName: options.clusterName ?? 'demo',
          region: 'eu-west-1',
          credentials: { ...signing, secretAccessKey: options.secretAccessKey ?? signing.secretAccessKey },
          now: options.at ?? now,
        })
      ).token;

    expect(authenticator.authenticate(await token({}))).toEqual({
      user: 'arn:aws:sts::123456789012:assumed-role/rollout-verifier-verify/rollout-verifier-verify',
      groups: ['rollout-verifier-observer', 'system:authenticated'],
    });
    expect(authenticator.authenticate(await token({ clusterName: 'prod' }))).toBeUndefined();
    expect(authenticator.authenticate(await token({ secretAccessKey: 'another-secret' }))).toBeUndefined();
    expect(
      authenticator.authenticate(await token({ at: new Date(now.getTime() - 16 * 60_000) })),
    ).toBeUndefined();
    expect(authenticator.authenticate('k8s-aws-v1.bm90LWEtdXJs')).toBeUndefined();
    expect(authenticator.rejections).toEqual([
      expect.stringMatching(/signature does not match/),
      expect.stringMatching(/signature does not match/),
      'token is expired',
      'token payload is not a URL',
    ]);
  });

  it('answers DescribeCluster only to a correctly signed request', async () => {
    const eks = await startEksSim({
      region: 'eu-west-1',
      clusters: [
        { name: 'demo', endpoint: 'https://127.0.0.1:6443', caPem: '-----BEGIN CERTIFICATE-----\n' },
      ],
      identities: [verifyRole],
    });
    const client = (secretAccessKey: string) =>
      new EKSClient({
        region: 'eu-west-1',
        endpoint: eks.endpoint,
        credentials: { ...signing, secretAccessKey },
      });
    try {
      const { cluster } = await client(signing.secretAccessKey).send(
        new DescribeClusterCommand({ name: 'demo' }),
      );
      expect(cluster).toMatchObject({ name: 'demo', status: 'ACTIVE', endpoint: 'https://127.0.0.1:6443' });
      expect(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString()).toContain(
        'BEGIN CERTIFICATE',
      );
      await expect(
        client(signing.secretAccessKey).send(new DescribeClusterCommand({ name: 'other' })),
      ).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
      await expect(client('wrong-secret').send(new DescribeClusterCommand({ name: 'demo' }))).rejects.toThrow(
        expect.objectContaining({ name: 'InvalidSignatureException' }),
      );
    } finally {
      await eks.close();
    }
  });

  it('evaluates DynamoDB condition expressions and refuses unused names', async () => {
    const dynamodb = await startDynamoDbSim({
      tables: { state: 'id' },
      credentials: { [signing.accessKeyId]: signing.secretAccessKey },
    });
    const client = new DynamoDBClient({
      region: 'eu-west-1',
      endpoint: dynamodb.endpoint,
      credentials: signing,
    });
    const put = (status: string, condition: string, values: Record<string, unknown> = {}) =>
      client.send(
        new PutItemCommand({
          TableName: 'state',
          Item: { id: { S: 'k' }, status: { S: status }, expiration: { N: '100' } },
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#id': 'id',
            ...(condition.includes('#expiry') ? { '#expiry': 'expiration' } : {}),
          },
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values as never } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    try {
      await put('INPROGRESS', 'attribute_not_exists(#id)');
      await expect(put('INPROGRESS', 'attribute_not_exists(#id)')).rejects.toThrow(
        expect.objectContaining({
          name: 'ConditionalCheckFailedException',
          Item: expect.objectContaining({ status: { S: 'INPROGRESS' } }),
        }),
      );
      // expired (100 < 200): the condition holds and the put replaces the item
      await put('COMPLETED', 'attribute_not_exists(#id) OR (#expiry < :now AND attribute_exists(#id))', {
        ':now': { N: '200' },
      });
      expect(dynamodb.items('state')).toEqual([
        { id: { S: 'k' }, status: { S: 'COMPLETED' }, expiration: { N: '100' } },
      ]);
      await expect(
        client.send(
          new PutItemCommand({
            TableName: 'state',
            Item: { id: { S: 'x' } },
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': 'id', '#unused': 'status' },
          }),
        ),
      ).rejects.toThrow(expect.objectContaining({ name: 'ValidationException' }));
    } finally {
      client.destroy();
      await dynamodb.close();
    }
  });
});
