import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { afterAll, describe, expect, test } from 'vitest';
import { settingsFromContext } from '../../lib/context.js';
import {
  DEFAULT_ENTRIES,
  PROJECT_ROOT,
  RolloutVerifierConfigError,
  type RolloutVerifierProps,
  resolveSettings,
} from '../../lib/settings.js';
import { cleanup, PLACEHOLDER_ENTRY, synth, tempDir } from './helpers.js';

afterAll(cleanup);

/** A verifier's place in an app: resolveSettings names it in errors and derives the service name from it. */
const scope = () => new Construct(new Stack(new App(), 'Test'), 'Verifier');

const problemsOf = (props: RolloutVerifierProps): readonly string[] => {
  try {
    resolveSettings(scope(), props);
  } catch (error) {
    if (error instanceof RolloutVerifierConfigError) return error.problems;
    throw error;
  }
  return [];
};

test('every optional prop of a construct in lib/ documents its @default', () => {
  const undocumented: string[] = [];
  for (const file of readdirSync(join(PROJECT_ROOT, 'lib')).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(PROJECT_ROOT, 'lib', file), 'utf8');
    for (const [, name, body = ''] of source.matchAll(/export interface (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
      if (!name || !/(Props|Options|Settings)$/.test(name) || name.startsWith('Resolved')) continue;
      // Each optional member at the start of a line, with the doc comment that ends right above it.
      const lines = body.split('\n');
      lines.forEach((line, index) => {
        const member = /^\s*readonly (\w+)\?:/.exec(line)?.[1];
        if (!member) return;
        let start = index - 1;
        if (!lines[start]?.trim().endsWith('*/')) start = index;
        while (start >= 0 && start < index && !lines[start]?.includes('/**')) start--;
        if (!lines.slice(Math.max(start, 0), index).join('\n').includes('@default')) {
          undocumented.push(`${file} ${name}.${member}`);
        }
      });
    }
  }
  expect(undocumented).toEqual([]);
});

describe('resolveSettings', () => {
  test('defaults', () => {
    const settings = resolveSettings(scope(), { ingest: { enabled: false }, callback: { enabled: false } });
    expect(settings).toMatchObject({
      clusterNames: [],
      busName: undefined,
      createBus: true,
      deadlineSeconds: 30,
      verifyTimeoutSeconds: 45,
      onFailure: 'abort',
      onSuccess: 'none',
      verifyReservedConcurrency: 5,
      logs: { retention: RetentionDays.ONE_MONTH },
      logLevel: 'INFO',
      serviceName: 'Test-Verifier',
      kubernetesGroups: { verify: 'rollout-verifier-observer', callback: 'rollout-verifier' },
      verifyCode: { kind: 'source', entry: join(PROJECT_ROOT, 'lambdas/verify/handler.ts') },
    });
    expect(settings.alarmEmail).toBeUndefined();
  });

  test('ingest and callback are enabled exactly when their handler file exists', () => {
    const settings = resolveSettings(scope());
    expect(settings.ingest.enabled).toBe(existsSync(join(PROJECT_ROOT, DEFAULT_ENTRIES.ingest)));
    expect(settings.callback.enabled).toBe(existsSync(join(PROJECT_ROOT, DEFAULT_ENTRIES.callback)));
  });

  test.each<[string, RolloutVerifierProps, RegExp]>([
    [
      'deadline above 840',
      { deadlineSeconds: 841 },
      /deadlineSeconds must be an integer from 1 to 840.*got 841/,
    ],
    ['deadline 0', { deadlineSeconds: 0 }, /deadlineSeconds .* got 0/],
    ['an existing bus without its name', { createBus: false }, /createBus false needs busName/],
    [
      'eventBus with busName',
      { eventBus: {} as NonNullable<RolloutVerifierProps['eventBus']>, busName: 'mine' },
      /eventBus excludes busName and createBus/,
    ],
    ['fractional deadline', { deadlineSeconds: 30.5 }, /deadlineSeconds .* got 30.5/],
    [
      'unknown onFailure',
      { onFailure: 'rollback' as 'abort' },
      /onFailure must be one of abort, none, got "rollback"/,
    ],
    [
      'unknown onSuccess',
      { onSuccess: 'yes' as 'none' },
      /onSuccess must be one of promote, none, got "yes"/,
    ],
    [
      'reserved concurrency 0',
      { verifyReservedConcurrency: 0 },
      /verifyReservedConcurrency must be an integer from 1/,
    ],
    ['retention not offered by CloudWatch', { logRetention: 42 as RetentionDays }, /logRetention .* got 42/],
    ['creating the default bus', { busName: 'default' }, /busName "default" is the account's default bus/],
    ['bus name with spaces', { busName: 'my bus' }, /busName "my bus" is not a valid event bus name/],
    ['bad email', { alarmEmail: 'ops' }, /alarmEmail "ops" is not an email address/],
    ['bad cluster name', { clusterName: '-prod!' }, /clusterName "-prod!" is not a valid EKS cluster name/],
    [
      'system: group',
      { kubernetesGroups: { verify: 'system:masters' } },
      /Kubernetes group "system:masters"/,
    ],
    ['log level', { logLevel: 'TRACE' as 'INFO' }, /logLevel must be one of/],
    ['subnets without vpc', { vpcSubnets: {} }, /vpcSubnets and securityGroups need vpc/],
    [
      'missing verify entry',
      { verifyEntry: 'lambdas/nope/handler.ts' },
      /verifyEntry: the handler .*lambdas\/nope\/handler.ts does not exist/,
    ],
    [
      'a webhook cluster name that is not one',
      { ingest: { enabled: true, entry: PLACEHOLDER_ENTRY, clusters: ['prod eu'] } },
      /ingest.clusters: "prod eu" is not a valid cluster name/,
    ],
    [
      'a shared token kept for a cluster that does not post notifications',
      {
        clusterNames: ['blue'],
        ingest: { enabled: true, entry: PLACEHOLDER_ENTRY, sharedTokenCluster: 'green' },
      },
      /ingest.sharedTokenCluster "green" is not one of the webhook's clusters/,
    ],
    [
      'webhook clusters unknown at synth',
      {
        clusterNames: [Lazy.string({ produce: () => 'late' })],
        ingest: { enabled: true, entry: PLACEHOLDER_ENTRY },
      },
      /the webhook binds a token to each cluster name: give the names at synth/,
    ],
    [
      'an allow-list entry that is not a CIDR block',
      { ingest: { enabled: true, entry: PLACEHOLDER_ENTRY, allowedSourceCidrs: ['203.0.113.0/33'] } },
      /ingest.allowedSourceCidrs: "203.0.113.0\/33" is not a CIDR block/,
    ],
    [
      'a web ACL without the REST API front',
      { ingest: { enabled: true, entry: PLACEHOLDER_ENTRY, webAclArn: 'arn:aws:wafv2:x' } },
      /ingest.webAclArn and ingest.restApiThrottle need front: 'restApi'/,
    ],
    [
      'an alarm on a single refused request',
      { ingest: { enabled: true, entry: PLACEHOLDER_ENTRY, authenticationFailureAlarmThreshold: 1 } },
      /authenticationFailureAlarmThreshold must be a whole number of at least 2/,
    ],
    [
      'callback forced on without a handler',
      { callback: { enabled: true, entry: 'lambdas/nope/callback.ts' } },
      /callback.entry: the handler .*lambdas\/nope\/callback.ts does not exist/,
    ],
  ])('rejects %s', (_name, props, message) => {
    const problems = problemsOf({
      callback: { enabled: false },
      ...props,
      ingest: { enabled: false, ...props.ingest },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  test('every problem is reported at once, and synth fails with the list', () => {
    expect(() => synth({ deadlineSeconds: 900, onFailure: 'rollback' as 'abort', alarmEmail: 'x' })).toThrow(
      /invalid RolloutVerifier settings at Test\/Verifier:\n {2}- alarmEmail[\s\S]*\n {2}- deadlineSeconds[\s\S]*\n {2}- onFailure/,
    );
  });

  test('accepts the edges', () => {
    expect(problemsOf({ deadlineSeconds: 1, verifyReservedConcurrency: 1000, onSuccess: 'promote' })).toEqual(
      [],
    );
    expect(problemsOf({ deadlineSeconds: 840, verifyReservedConcurrency: false, onFailure: 'none' })).toEqual(
      [],
    );
    expect(problemsOf({ createBus: false, busName: 'default' })).toEqual([]);
  });
});

describe('settingsFromContext (bin/app.ts)', () => {
  const fromContext = (context: Record<string, unknown>) =>
    settingsFromContext(new App({ context, outdir: tempDir() }).node);

  test('removalPolicy: destroy, retain or snapshot, any case; anything else names the choices', () => {
    expect(fromContext({ removalPolicy: 'Destroy' }).verifier.removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(fromContext({ removalPolicy: 'retain' }).verifier.removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(() => fromContext({ removalPolicy: 'keep' })).toThrow(
      'invalid RolloutVerifier settings at cdk context:\n  - context removalPolicy must be one of retain, destroy, snapshot, got "keep"',
    );
  });

  test('no context: stack RolloutVerifier and no props, so the construct defaults apply', () => {
    expect(fromContext({})).toEqual({ stackName: 'RolloutVerifier', verifier: {} });
  });

  test('-c strings are converted', () => {
    expect(
      fromContext({
        stackName: 'Verifier-prod',
        clusterName: 'prod',
        clusterNames: 'blue, green',
        busName: 'platform',
        createBus: 'false',
        alarmEmail: 'ops@example.com',
        deadlineSeconds: '45',
        onFailure: 'none',
        onSuccess: 'promote',
        verifyReservedConcurrency: 'none',
        logRetention: '14',
        logLevel: 'debug',
        serviceName: 'verifier-prod',
        webhookClusters: 'blue, green, edge',
        sharedTokenCluster: 'blue',
        allowedSourceCidrs: '203.0.113.0/28,198.51.100.7',
        ingestFront: 'restApi',
      }),
    ).toEqual({
      stackName: 'Verifier-prod',
      verifier: {
        clusterName: 'prod',
        clusterNames: ['blue', 'green'],
        busName: 'platform',
        createBus: false,
        alarmEmail: 'ops@example.com',
        deadlineSeconds: 45,
        onFailure: 'none',
        onSuccess: 'promote',
        verifyReservedConcurrency: false,
        logRetention: RetentionDays.TWO_WEEKS,
        logLevel: 'DEBUG',
        serviceName: 'verifier-prod',
        ingest: {
          clusters: ['blue', 'green', 'edge'],
          sharedTokenCluster: 'blue',
          allowedSourceCidrs: ['203.0.113.0/28', '198.51.100.7'],
          front: 'restApi',
        },
      },
    });
  });

  test('cdk.json JSON values are accepted as they are', () => {
    expect(
      fromContext({
        clusterNames: ['a', 'b'],
        createBus: true,
        deadlineSeconds: 60,
        verifyReservedConcurrency: 3,
      }).verifier,
    ).toEqual({
      clusterNames: ['a', 'b'],
      createBus: true,
      deadlineSeconds: 60,
      verifyReservedConcurrency: 3,
    });
  });

  test('badly typed context fails with every problem named', () => {
    let problems: readonly string[] = [];
    try {
      fromContext({ deadlineSeconds: 'soon', createBus: 'yes', logRetention: '42' });
    } catch (error) {
      if (error instanceof RolloutVerifierConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      'context logRetention must be a CloudWatch retention period in days, got 42',
      'context createBus must be true or false, got "yes"',
      'context deadlineSeconds must be a whole number, got "soon"',
    ]);
  });
});
