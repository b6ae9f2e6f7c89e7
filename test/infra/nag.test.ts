import { Stack } from 'aws-cdk-lib';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, test } from 'vitest';
import { nagAcknowledgements } from '../../lib/nag.js';
import { RolloutVerifier } from '../../lib/rollout-verifier.js';
import { RolloutVerifierStack } from '../../lib/rollout-verifier-stack.js';
import type { RolloutVerifierProps } from '../../lib/settings.js';
import { cleanup, PLACEHOLDER_ENTRY, testApp } from './helpers.js';

afterAll(cleanup);

const FULL: RolloutVerifierProps = {
  clusterName: 'prod',
  alarmEmail: 'ops@example.com',
  ingest: { entry: PLACEHOLDER_ENTRY },
  callback: { entry: PLACEHOLDER_ENTRY },
};

interface Finding {
  readonly rule: string;
  readonly path: string;
}

/** AwsSolutions findings under `scope`; `ignoreAcknowledgements` gives the raw findings behind them. */
function findings(scope: IConstruct, ignoreAcknowledgements = false): Finding[] {
  const pack = new AwsSolutionsChecks();
  if (ignoreAcknowledgements) {
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  }
  return pack.validateScope(scope).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      path: resource.constructPath ?? '',
    })),
  );
}

/** Synthesizes through the App with the cdk-nag plugin registered, as `cdk synth` does. */
function synthWithNag(build: (stack: Stack) => void): Stack {
  const app = testApp({ nag: true });
  const stack = new Stack(app, 'Nag');
  build(stack);
  app.synth();
  return stack;
}

describe('cdk-nag AwsSolutionsChecks', () => {
  test('the deployable stack (everything enabled) synthesizes with zero unacknowledged findings', () => {
    const app = testApp({ nag: true });
    const stack = new RolloutVerifierStack(app, 'Full', { verifier: FULL });
    expect(() => app.synth()).not.toThrow();
    expect(findings(stack)).toEqual([]);
  });

  test('verify only, existing bus, no cluster: zero findings', () => {
    const stack = synthWithNag((s) => {
      new RolloutVerifier(s, 'Verifier', {
        ingest: { enabled: false },
        callback: { enabled: false },
        createBus: false,
        busName: 'platform-events',
      });
    });
    expect(findings(stack)).toEqual([]);
  });

  test('functions in a VPC (private cluster endpoint): zero findings', () => {
    const stack = synthWithNag((s) => {
      const vpc = Vpc.fromVpcAttributes(s, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
      });
      const securityGroup = SecurityGroup.fromSecurityGroupId(s, 'Sg', 'sg-0123456789abcdef0');
      new RolloutVerifier(s, 'Verifier', { ...FULL, vpc, securityGroups: [securityGroup] });
    });
    expect(findings(stack)).toEqual([]);
  });

  test('negative control: the plugin is live, an unencrypted queue fails synth with the report', () => {
    expect(() =>
      synthWithNag((s) => {
        new Queue(s, 'Plain');
      }),
    ).toThrow(/AwsSolutions-SQS4/);
  });

  test('the wildcard acknowledgement covers the unscoped policy only: a * statement in a role fails synthesis', () => {
    expect(() =>
      synthWithNag((s) => {
        const verifier = new RolloutVerifier(s, 'Verifier', FULL);
        verifier.verify.fn.addToRolePolicy(
          new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }),
        );
      }),
    ).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    const acknowledged = nagAcknowledgements(synthWithNag((s) => new RolloutVerifier(s, 'Verifier', FULL)))
      .filter((ack) => ack.id === 'AwsSolutions-IAM5[Resource::*]')
      .map((ack) => ack.path)
      .sort();
    expect(acknowledged).toEqual(
      [
        'Callback/Callback',
        'Gate/Gate',
        'History/Recorder',
        'Ingest/Ingest',
        'Sentinel/Sentinel',
        'TrafficLook/Traffic',
        'Verify/Verify',
      ].map((fn) => `Nag/Verifier/${fn}/UnscopedActions`),
    );
  });

  test.each([
    ['without a web ACL', {}],
    [
      'with a web ACL',
      {
        webAclArn:
          'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/w/0123abcd-0123-4567-89ab-0123456789ab',
      },
    ],
  ])('REST API front %s: zero findings', (_name, options) => {
    const stack = synthWithNag((s) => {
      new RolloutVerifier(s, 'Verifier', {
        ...FULL,
        ingest: { ...FULL.ingest, front: 'restApi', allowedSourceCidrs: ['203.0.113.0/28'], ...options },
      });
    });
    expect(findings(stack)).toEqual([]);
  });

  test('customer-managed table and log keys: zero findings', () => {
    const stack = synthWithNag((s) => {
      const key = new Key(s, 'TableKey', { enableKeyRotation: true });
      const logKey = new Key(s, 'LogKey', { enableKeyRotation: true });
      new RolloutVerifier(s, 'Verifier', { ...FULL, tableEncryptionKey: key, logEncryptionKey: logKey });
    });
    expect(findings(stack)).toEqual([]);
  });

  test('every acknowledgement has a specific reason and covers a finding that really fires', () => {
    const app = testApp();
    const stack = new Stack(app, 'Acks');
    const vpc = Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'],
    });
    new RolloutVerifier(stack, 'Verifier', { ...FULL, vpc });
    // And one behind the REST API front (only nag looks at this stack: the two need not deploy together).
    new RolloutVerifier(stack, 'Fronted', { ...FULL, ingest: { ...FULL.ingest, front: 'restApi' } });
    const acknowledgements = nagAcknowledgements(stack);
    const raw = findings(stack, true);

    // The sentinel schedule's role: invoke on its function's versions, named by the function's logical id.
    const normalized = (id: string) => id.replace(/<\w*SentinelFunction\w*\.Arn>/, '<SentinelFunction.Arn>');
    expect([...new Set(acknowledgements.map((ack) => normalized(ack.id)))].sort()).toEqual([
      'AwsSolutions-APIG1',
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-APIG6',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::<SentinelFunction.Arn>:*]',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
    ]);
    for (const ack of acknowledgements) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(80);
      const covered = raw.filter(
        (finding) => finding.rule === ack.id && finding.path.startsWith(`${ack.path}/`),
      );
      expect(covered.length, `${ack.id} at ${ack.path} covers no finding`).toBeGreaterThan(0);
    }
    // And nothing fires that is not acknowledged.
    const unacknowledged = raw.filter(
      (finding) =>
        !acknowledgements.some((ack) => ack.id === finding.rule && finding.path.startsWith(`${ack.path}/`)),
    );
    expect(unacknowledged).toEqual([]);
  });
});
