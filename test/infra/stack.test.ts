import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ROLLOUT_EVENT_PATTERN,
  TRAFFIC_LOOK_TRIGGER_PATTERN,
  VERDICT_EVENT_PATTERN,
} from '../../contract/event-catalog.js';
import { STATE_KEY_PREFIXES } from '../../contract/state-table.js';
import { RolloutVerifier } from '../../lib/rollout-verifier.js';
import type { RolloutVerifierStack } from '../../lib/rollout-verifier-stack.js';
import { TABLE_ACTIONS, TABLE_KEY_ACTIONS } from '../../lib/state-table.js';
import type { VerifierFunction } from '../../lib/verifier-function.js';
import { ELB_DESCRIBE_ACTIONS } from '../../lib/verify.js';
import {
  cleanup,
  getAtt,
  logicalId,
  PLACEHOLDER_ENTRY,
  resourcesOfType,
  type Synthesized,
  synth,
  testApp,
  VERIFY_ONLY,
} from './helpers.js';

afterAll(cleanup);

/**
 * Everything: cluster, email, ingest and callback (placeholder entries). The traffic look has its
 * own block below ('the traffic look'); the history, the analysis gate and the drift sentinel have
 * their own tests (test/infra/history-gate.test.ts).
 */
const FULL = {
  clusterName: 'prod',
  alarmEmail: 'ops@example.com',
  ingest: { entry: PLACEHOLDER_ENTRY },
  callback: { entry: PLACEHOLDER_ENTRY },
  trafficLook: { enabled: false },
  history: { enabled: false },
  gate: { enabled: false },
  sentinel: { enabled: false },
} as const;

const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The statements of one policy, actions normalised to sorted arrays. */
function policyStatements(template: Template, policy: IConstruct): Statement[] {
  const resource = resourcesOfType(template, 'AWS::IAM::Policy')[logicalId(policy)];
  const document = required(resource, `policy ${policy.node.path}`).Properties.PolicyDocument as {
    Statement: Statement[];
  };
  return document.Statement.map((statement) => ({ ...statement, Action: [statement.Action].flat().sort() }));
}

/**
 * The scoped statements of a function's role: its default policy. The role has exactly two policies,
 * that one and `unscopedPolicy` (statements on `*`, see unscopedStatementsOf).
 */
function statementsOf(template: Template, fn: VerifierFunction): Statement[] {
  const attached = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(logicalId(fn.role)))
    .map(([id]) => id)
    .sort();
  const defaultPolicy = fn.role.node.findChild('DefaultPolicy');
  expect(attached).toEqual([logicalId(defaultPolicy), logicalId(fn.unscopedPolicy)].sort());
  const statements = policyStatements(template, defaultPolicy);
  expect(statements.filter((statement) => JSON.stringify(statement.Resource).includes('"*"'))).toEqual([]);
  expect(statements.filter((statement) => statement.Resource === '*')).toEqual([]);
  return statements;
}

const X_RAY = {
  Sid: 'WriteTraces',
  Effect: 'Allow',
  Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  Resource: '*',
};

/** The statements on `*`, in the function's one policy where cdk-nag's IAM5 is acknowledged. */
const unscopedStatementsOf = (template: Template, fn: VerifierFunction) =>
  policyStatements(template, fn.unscopedPolicy);

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}

const sorted = (actions: readonly string[]) => [...actions].sort();

describe('verify only (before the ingest and callback handlers exist)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth(VERIFY_ONLY);
  });

  test('one function, one role, no managed policies, no other IAM', () => {
    s.template.resourceCountIs('AWS::Lambda::Function', 1);
    s.template.resourceCountIs('AWS::IAM::Role', 1);
    // The role's default policy (scoped statements) and its policy of unscoped ones.
    s.template.resourceCountIs('AWS::IAM::Policy', 2);
    s.template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('the verify role holds exactly these statements', () => {
    const fn = s.stack.verifier.verify.fn;
    expect(statementsOf(s.template, fn)).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: getAtt(fn.logGroup),
      },
      // Sending: by the SqsDestination (async on-failure) to its own queue, and verify's continuations
      // to the looks queue (merged by minimizePolicies). No other queue.
      {
        Effect: 'Allow',
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: [getAtt(fn.deadLetterQueue.queue), getAtt(s.stack.verifier.verify.lookQueue)],
      },
      {
        Sid: 'PublishOnVerifierBus',
        Effect: 'Allow',
        Action: ['events:PutEvents'],
        Resource: getAtt(s.stack.verifier.bus),
      },
      {
        Sid: 'StateTableOwnItems',
        Effect: 'Allow',
        Action: sorted(TABLE_ACTIONS),
        Resource: getAtt(s.stack.verifier.table),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['verify#*'] } },
      },
      // The looks queue's event source mapping: consuming, on that queue only.
      {
        Effect: 'Allow',
        Action: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
        ],
        Resource: getAtt(s.stack.verifier.verify.lookQueue),
      },
    ]);
    // The APIs without resource-level permissions, in a policy of their own (cdk-nag IAM5 acknowledged there only).
    expect(unscopedStatementsOf(s.template, fn)).toEqual([
      X_RAY,
      { Sid: 'ReadLoadBalancers', Effect: 'Allow', Action: sorted(ELB_DESCRIBE_ACTIONS), Resource: '*' },
    ]);
  });

  test('X-Ray tracing is active, and the function waits for its X-Ray grant', () => {
    const fn = s.stack.verifier.verify.fn;
    const resource = resourcesOfType(s.template, 'AWS::Lambda::Function')[logicalId(fn.function)];
    expect(resource?.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    const dependsOn = (s.template.toJSON().Resources[logicalId(fn.function)] as { DependsOn?: string[] })
      .DependsOn;
    expect(dependsOn).toContain(logicalId(fn.unscopedPolicy));
  });

  test('ELBv2: exactly the six Describe calls; table: item actions only; no tag:GetResources, no wildcard actions', () => {
    expect(sorted(ELB_DESCRIBE_ACTIONS)).toEqual([
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
    ]);
    // The four item calls Powertools idempotency makes: no Query, no ConditionCheckItem (transactions only).
    expect(sorted(TABLE_ACTIONS)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(STATE_KEY_PREFIXES.verify).not.toBe(STATE_KEY_PREFIXES.callback);
    const fn = s.stack.verifier.verify.fn;
    const actions = [...statementsOf(s.template, fn), ...unscopedStatementsOf(s.template, fn)].flatMap(
      (st) => st.Action,
    );
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions).not.toContain('tag:GetResources');
  });

  test('the rollout rule uses exactly the contract pattern, on the bus, targets the looks queue with retry policy and DLQ', () => {
    const rules = Object.values(resourcesOfType(s.template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.Properties ?? {};
    expect(rule.EventPattern).toEqual(JSON.parse(JSON.stringify(ROLLOUT_EVENT_PATTERN)));
    expect(rule.EventBusName).toEqual(ref(s.stack.verifier.bus));
    expect(rule.Targets).toEqual([
      {
        Id: 'Target0',
        // No InputTransformer: the message body is the whole EventBridge event, as verify parses it.
        Arn: getAtt(s.stack.verifier.verify.lookQueue),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [expect.stringContaining('RolloutEventsDeadLetters'), 'Arn'] },
        },
      },
    ]);
  });

  test('a custom bus is created, its name made of the stack name and the construct path', () => {
    s.template.resourceCountIs('AWS::Events::EventBus', 1);
    const [bus] = Object.values(resourcesOfType(s.template, 'AWS::Events::EventBus'));
    expect(required(bus, 'the bus').Properties.Name).toMatch(/^Test-Verifier-Events-[0-9A-F]{8}$/);
  });

  test('verify function: Node 24 on arm64, ESM bundle handler, memory, timeout > deadline + reserve, X-Ray, logs', () => {
    const fn = s.stack.verifier.verify.fn;
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 45,
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 5,
      LoggingConfig: { LogGroup: ref(fn.logGroup) },
      Environment: {
        Variables: {
          EVENT_BUS_NAME: ref(s.stack.verifier.bus),
          VERIFY_DEADLINE_SECONDS: '30',
          VERIFY_PUBLISH_RESERVE_MS: '5000',
          STATE_TABLE_NAME: ref(s.stack.verifier.table),
          POWERTOOLS_SERVICE_NAME: 'Test-Verifier',
          POWERTOOLS_METRICS_NAMESPACE: 'RolloutVerifier',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
    const verify = required(
      Object.values(resourcesOfType(s.template, 'AWS::Lambda::Function'))[0],
      'function',
    );
    const deadline = Number(
      (verify.Properties.Environment as { Variables: Record<string, string> }).Variables
        .VERIFY_DEADLINE_SECONDS,
    );
    expect(verify.Properties.Timeout).toBeGreaterThan(deadline + 5);
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('every function has an async on-failure SQS destination and bounded retries', () => {
    const functions = Object.keys(resourcesOfType(s.template, 'AWS::Lambda::Function'));
    const configs = Object.values(resourcesOfType(s.template, 'AWS::Lambda::EventInvokeConfig'));
    const queues = Object.keys(resourcesOfType(s.template, 'AWS::SQS::Queue'));
    for (const fn of functions) {
      const config = required(
        configs.find((c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: fn })),
        `EventInvokeConfig of ${fn}`,
      );
      const destination = (config.Properties.DestinationConfig as { OnFailure: { Destination: unknown } })
        .OnFailure.Destination as { 'Fn::GetAtt': [string, string] };
      expect(queues).toContain(destination['Fn::GetAtt'][0]);
      expect(config.Properties.MaximumRetryAttempts).toBeLessThanOrEqual(2);
      expect(config.Properties.MaximumEventAgeInSeconds).toBe(3600);
    }
  });

  test('every queue is encrypted and TLS-only; the dead-letter queues keep messages 14 days', () => {
    const queues = resourcesOfType(s.template, 'AWS::SQS::Queue');
    const looks = logicalId(s.stack.verifier.verify.lookQueue);
    // The rule's and the function's dead-letter queues, the looks queue and its dead-letter queue.
    expect(Object.keys(queues)).toHaveLength(4);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      if (id !== looks) {
        expect(queue.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
      }
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  test('state table: on-demand, key id, TTL expiration, PITR, AWS-managed KMS encryption, retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  test('no cluster name: no access entry and no eks permission', () => {
    s.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    expect(JSON.stringify(s.template.toJSON())).not.toContain('eks:');
  });

  test('every alarm notifies the encrypted topic and treats missing data as not breaching', () => {
    const topic = s.stack.verifier.alarmTopic;
    const alarms = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms)).toHaveLength(s.stack.verifier.alarms.alarms.length);
    expect(s.stack.verifier.alarms.alarms.map((alarm) => alarm.node.id).sort()).toEqual(
      [
        'EventsRolloutEventsDeadLetters',
        'VerificationFailed',
        'VerificationInconclusive',
        'VerifyDurationNearTimeout',
        'VerifyFailedInvocations',
        'VerifyFunctionErrors',
        'VerifyFunctionThrottles',
        'VerifyLookDeadLetters',
        'VerifyLooksStarving',
      ].sort(),
    );
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([ref(topic)]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test("the topic key lets CloudWatch use it only for this stack's alarms in this account", () => {
    const [key] = Object.values(resourcesOfType(s.template, 'AWS::KMS::Key'));
    const statements = (
      required(key, 'the topic key').Properties.KeyPolicy as { Statement: Record<string, unknown>[] }
    ).Statement;
    const forCloudWatch = statements.filter((statement) =>
      JSON.stringify(statement.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(forCloudWatch).toEqual([
      {
        Sid: 'CloudWatchAlarmsOfThisStack',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:Test-*',
                ],
              ],
            },
          },
        },
      },
    ]);
    // No alarm has a name of its own: CloudFormation names each `Test-<logical id>-<suffix>`, within the pattern.
    for (const alarm of Object.values(resourcesOfType(s.template, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmName).toBeUndefined();
    }
  });

  test('verdict alarms: Failed >= 1 per minute, Inconclusive >= 1 over 5 minutes, on the service dimension', () => {
    const verdictAlarm = (name: string, period: number) =>
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'RolloutVerifier',
        MetricName: name,
        Dimensions: [{ Name: 'service', Value: 'Test-Verifier' }],
        Statistic: 'Sum',
        Period: period,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    verdictAlarm('VerificationFailed', 60);
    verdictAlarm('VerificationInconclusive', 300);
  });

  test('duration alarm: verify p99 above 80% of the timeout; DLQ alarms: any visible message', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: 36_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const looks = logicalId(s.stack.verifier.verify.lookQueue);
    const queues = Object.keys(resourcesOfType(s.template, 'AWS::SQS::Queue')).filter((id) => id !== looks);
    expect(queues).toHaveLength(3);
    for (const queue of queues) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  test('dashboard: verdicts, time to verdict p50/p99, ELB calls, per-Rollout SEARCH for drift and unhealthy targets', () => {
    const dashboards = Object.values(resourcesOfType(s.template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const needle of [
      'VerificationSucceeded',
      'VerificationFailed',
      'VerificationInconclusive',
      'TimeToVerdictMs',
      '\\"stat\\":\\"p50\\"',
      '\\"stat\\":\\"p99\\"',
      'ElbApiCalls',
      'SEARCH(\'{RolloutVerifier,Rollout,service} MetricName=\\\\\\"WeightDrift\\\\\\"',
      'SEARCH(\'{RolloutVerifier,Rollout,service} MetricName=\\\\\\"UnhealthyCanaryTargets\\\\\\"',
    ]) {
      expect(body).toContain(needle);
    }
  });

  test('outputs carry the callback policies and what operators copy into clusters', () => {
    s.template.hasOutput('OnFailurePolicy', { Value: 'abort' });
    s.template.hasOutput('OnSuccessPolicy', { Value: 'none' });
    for (const name of ['EventBusName', 'EventBusArn', 'StateTableName', 'AlarmTopicArn', 'VerifyRoleArn']) {
      s.template.hasOutput(name, Match.anyValue());
    }
  });
});

describe('everything enabled: cluster, email, ingest and callback', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth(FULL);
  });

  test('synthesis raises no warnings or errors (no deprecated APIs, no missing settings)', () => {
    const annotations = Annotations.fromStack(s.stack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });

  test('three functions, three roles, each function with its own DLQ; rules to verify and callback', () => {
    s.template.resourceCountIs('AWS::Lambda::Function', 3);
    s.template.resourceCountIs('AWS::IAM::Role', 3);
    s.template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    s.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    // 3 function DLQs + 2 rule-target DLQs + the looks queue and its DLQ.
    s.template.resourceCountIs('AWS::SQS::Queue', 7);
    const rules = Object.values(resourcesOfType(s.template, 'AWS::Events::Rule'));
    const patterns = rules.map((rule) => rule.Properties.EventPattern);
    expect(patterns).toEqual([
      JSON.parse(JSON.stringify(ROLLOUT_EVENT_PATTERN)),
      JSON.parse(JSON.stringify(VERDICT_EVENT_PATTERN)),
    ]);
    for (const rule of rules) {
      const [target] = rule.Properties.Targets as Record<string, unknown>[];
      expect(target?.DeadLetterConfig).toBeDefined();
      expect(target?.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 });
    }
  });

  test('verify role gains only eks:DescribeCluster on the named cluster', () => {
    const statements = statementsOf(s.template, s.stack.verifier.verify.fn);
    expect(statements.map((st) => st.Sid)).toEqual([
      'WriteOwnLogs',
      undefined,
      'PublishOnVerifierBus',
      'StateTableOwnItems',
      // The looks queue's event source mapping.
      undefined,
      'DescribeNamedClusters',
    ]);
    expect(statements.at(-1)).toEqual({
      Sid: 'DescribeNamedClusters',
      Effect: 'Allow',
      Action: ['eks:DescribeCluster'],
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':eks:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':cluster/prod',
          ],
        ],
      },
    });
  });

  test('callback role: logs, X-Ray, its DLQ, table items, DescribeCluster — no ELB, no PutEvents', () => {
    const callback = s.stack.verifier.callback;
    expect(callback).toBeDefined();
    if (!callback) return;
    const statements = statementsOf(s.template, callback.fn);
    expect(statements.map((st) => [st.Sid, st.Action])).toEqual([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
      [undefined, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
      ['StateTableOwnItems', sorted(TABLE_ACTIONS)],
      ['DescribeNamedClusters', ['eks:DescribeCluster']],
    ]);
    expect(unscopedStatementsOf(s.template, callback.fn)).toEqual([X_RAY]);
    expect(statements[2]?.Resource).toEqual(getAtt(s.stack.verifier.table));
    // Only the callback's own idempotency records: it cannot touch verify's, nor verify its.
    expect(statements[2]?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['callback#*'] },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(callback.fn.role),
      Environment: {
        Variables: Match.objectLike({ ON_FAILURE: 'abort', ON_SUCCESS: 'none', CLUSTER_NAMES: 'prod' }),
      },
    });
  });

  test('ingest role: logs, X-Ray, its DLQ, PutEvents on the bus, the cluster’s token secret', () => {
    const ingest = s.stack.verifier.ingest;
    expect(ingest).toBeDefined();
    if (!ingest) return;
    const statements = statementsOf(s.template, ingest.fn);
    expect(statements.map((st) => [st.Sid, st.Action])).toEqual([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
      [undefined, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
      ['PublishOnVerifierBus', ['events:PutEvents']],
      ['ReadWebhookTokens', ['secretsmanager:GetSecretValue']],
    ]);
    expect(unscopedStatementsOf(s.template, ingest.fn)).toEqual([X_RAY]);
    expect(statements[2]?.Resource).toEqual(getAtt(s.stack.verifier.bus));
    expect(statements[3]?.Resource).toEqual(ingest.tokens.map(({ secret }) => ref(secret))[0]);
    s.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(ingest.fn.role),
      ReservedConcurrentExecutions: 5,
    });
  });

  test('access entries: one per role, STANDARD, Kubernetes group, no access policies', () => {
    const entries = Object.values(resourcesOfType(s.template, 'AWS::EKS::AccessEntry')).map(
      (e) => e.Properties,
    );
    expect(entries).toEqual([
      {
        ClusterName: 'prod',
        PrincipalArn: getAtt(s.stack.verifier.verify.fn.role),
        Type: 'STANDARD',
        KubernetesGroups: ['rollout-verifier-observer'],
      },
      {
        ClusterName: 'prod',
        PrincipalArn: getAtt(s.stack.verifier.callback?.fn.role ?? s.stack),
        Type: 'STANDARD',
        KubernetesGroups: ['rollout-verifier'],
      },
    ]);
  });

  test('ingest auth failures and callback errors are alarmed; email subscribed', () => {
    for (const name of [
      'IngestAuthenticationFailures',
      'IngestClusterMismatches',
      'IngestExpiredTokens',
      'CallbackErrors',
    ]) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: name,
        Namespace: 'RolloutVerifier',
        AlarmActions: [ref(s.stack.verifier.alarmTopic)],
      });
    }
    // A valid token of the wrong cluster, or a cluster stuck on its previous token: the first one pages.
    for (const name of ['IngestClusterMismatches', 'IngestExpiredTokens']) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: name,
        Threshold: 1,
        Period: 300,
        EvaluationPeriods: 1,
      });
    }
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(tokenStore, 0) + FILL(publish, 0) + FILL(internal, 0)' }),
        Match.objectLike({
          Id: 'publish',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'IngestPublishFailures' }) }),
        }),
      ]),
    });
    const { verify, ingest, callback } = s.stack.verifier;
    for (const fn of [verify.fn, ingest?.fn, callback?.fn]) {
      for (const kind of ['Errors', 'Throttles']) {
        s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: kind,
          Dimensions: [{ Name: 'FunctionName', Value: ref(required(fn, 'function').function) }],
        });
      }
    }
    const queues = Object.keys(resourcesOfType(s.template, 'AWS::SQS::Queue'));
    const dlqAlarms = Object.values(resourcesOfType(s.template, 'AWS::CloudWatch::Alarm')).filter(
      (alarm) =>
        alarm.Properties.Namespace === 'AWS/SQS' &&
        alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    // Every queue but the looks queue is a dead-letter queue, alarmed on its first message.
    expect(dlqAlarms).toHaveLength(queues.length - 1);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('webhook tokens bound to clusters', () => {
  /** The token secret of the versions with one token for every cluster, exactly as they synthesized it. */
  const SHARED_SECRET = {
    VerifierIngestWebhookToken76438D87: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: 'Bearer token Argo Rollouts notifications present to the ingest webhook',
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 48 },
      },
      UpdateReplacePolicy: 'Delete',
      DeletionPolicy: 'Delete',
    },
  };
  const secretsOf = (template: Template) => template.findResources('AWS::SecretsManager::Secret');
  const ingestOf = (stack: RolloutVerifierStack) => required(stack.verifier.ingest, 'the ingest construct');
  const environmentOf = (template: Template, stack: RolloutVerifierStack) =>
    (
      required(
        resourcesOfType(template, 'AWS::Lambda::Function')[logicalId(ingestOf(stack).fn.function)],
        'ingest',
      ).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
  const tokenSecretsJson = (stack: RolloutVerifierStack) =>
    Object.fromEntries(ingestOf(stack).tokens.map(({ cluster, secret }) => [cluster, ref(secret)]));

  test('one cluster (the single-token upgrade): its secret stays exactly as it was, now bound to it', () => {
    const { stack, template } = synth(FULL);
    expect(secretsOf(template)).toEqual(SHARED_SECRET);
    const environment = environmentOf(template, stack);
    expect(environment.WEBHOOK_TOKEN_SECRET_ARN).toBeUndefined();
    expect(JSON.parse(JSON.stringify(stack.resolve(environment.WEBHOOK_TOKEN_SECRET_ARNS)))).toEqual(
      stack.resolve(stack.toJsonString({ prod: ingestOf(stack).tokens[0]?.secret.secretArn })),
    );
    expect(ingestOf(stack).tokens.map(({ cluster }) => cluster)).toEqual(['prod']);
    template.hasOutput('*', {
      Description: Match.stringLikeRegexp('of each cluster'),
      Value: Match.anyValue(),
    });
  });

  test('several clusters: the shared secret stays with clusterName, every other cluster gets its own; the role reads those only', () => {
    const onprem = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem-connection-AbCdEf';
    const { stack, template } = synth({
      ...FULL,
      clusterName: 'blue',
      clusterNames: ['green'],
      clusterSecrets: { onprem },
    });
    const ingest = ingestOf(stack);
    expect(ingest.tokens.map(({ cluster }) => cluster)).toEqual(['blue', 'green', 'onprem']);
    const secrets = secretsOf(template);
    expect(Object.keys(secrets)).toHaveLength(3);
    expect(secrets.VerifierIngestWebhookToken76438D87).toEqual(
      SHARED_SECRET.VerifierIngestWebhookToken76438D87,
    );
    expect(ingest.tokens[0]?.secret.node.id).toBe('WebhookToken');
    for (const cluster of ['green', 'onprem']) {
      const own = ingest.tokens.find((token) => token.cluster === cluster)?.secret;
      expect(secrets[logicalId(required(own, cluster))]?.Properties).toEqual({
        Description: `Bearer token the Argo Rollouts notifications of cluster ${cluster} present to the ingest webhook`,
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 48 },
      });
    }
    const read = statementsOf(template, ingest.fn).find((statement) => statement.Sid === 'ReadWebhookTokens');
    expect(read?.Resource).toEqual(ingest.tokens.map(({ secret }) => ref(secret)));
    expect(stack.resolve(environmentOf(template, stack).WEBHOOK_TOKEN_SECRET_ARNS)).toEqual(
      stack.resolve(
        stack.toJsonString(
          Object.fromEntries(ingest.tokens.map(({ cluster, secret }) => [cluster, secret.secretArn])),
        ),
      ),
    );
    expect(Object.keys(tokenSecretsJson(stack))).toEqual(['blue', 'green', 'onprem']);
  });

  test('the shared secret is kept for the cluster named, or for nobody when no cluster is the obvious one', () => {
    const pinned = synth({
      ...FULL,
      clusterName: undefined,
      clusterNames: ['blue', 'green'],
      ingest: { entry: PLACEHOLDER_ENTRY, sharedTokenCluster: 'green' },
    });
    expect(
      ingestOf(pinned.stack).tokens.find((token) => token.secret.node.id === 'WebhookToken')?.cluster,
    ).toBe('green');
    const none = synth({ ...FULL, clusterName: undefined, clusterNames: ['blue', 'green'] });
    expect(ingestOf(none.stack).tokens.map((token) => token.secret.node.id)).toEqual([
      'WebhookToken-blue',
      'WebhookToken-green',
    ]);
    expect(secretsOf(none.template).VerifierIngestWebhookToken76438D87).toBeUndefined();
  });

  test('no cluster at all: the one token is bound to none (WEBHOOK_TOKEN_SECRET_ARN without CLUSTER_NAME)', () => {
    const { stack, template } = synth({ ...FULL, clusterName: undefined });
    expect(secretsOf(template)).toEqual(SHARED_SECRET);
    const environment = environmentOf(template, stack);
    expect(environment.WEBHOOK_TOKEN_SECRET_ARN).toEqual(
      ref(required(ingestOf(stack).tokens[0], 'token').secret),
    );
    expect(environment.WEBHOOK_TOKEN_SECRET_ARNS).toBeUndefined();
    expect(environment.CLUSTER_NAME).toBeUndefined();
  });
});

describe('unauthenticated traffic', () => {
  test('the authentication-failure alarm fires on a sustained rate, not on one request', () => {
    const { template } = synth(FULL);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IngestAuthenticationFailures',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 50,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    synth({
      ...FULL,
      ingest: { ...FULL.ingest, authenticationFailureAlarmThreshold: 200 },
    }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IngestAuthenticationFailures',
      Threshold: 200,
    });
  });

  test('Function URL front: the allow-list goes to the function, which checks it first', () => {
    const cidrs = ['203.0.113.0/28', '2001:db8:1::/48'];
    const { stack, template } = synth({ ...FULL, ingest: { ...FULL.ingest, allowedSourceCidrs: cidrs } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(required(stack.verifier.ingest, 'ingest').fn.role),
      Environment: { Variables: Match.objectLike({ ALLOWED_SOURCE_CIDRS: cidrs.join(',') }) },
    });
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
  });

  test('REST API front: sources outside the allow-list are refused by the resource policy, before Lambda', () => {
    const cidrs = ['203.0.113.0/28'];
    const webAclArn =
      'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/webhook/0123abcd-0123-4567-89ab-0123456789ab';
    const { stack, template } = synth({
      ...FULL,
      ingest: {
        ...FULL.ingest,
        front: 'restApi',
        allowedSourceCidrs: cidrs,
        restApiThrottle: { rateLimit: 20, burstLimit: 40 },
        webAclArn,
      },
    });
    const ingest = required(stack.verifier.ingest, 'ingest');
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      Policy: {
        Statement: [
          {
            Sid: 'PostToTheWebhook',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*/POST/',
          },
          {
            Sid: 'OnlyFromTheClusters',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*',
            Condition: { NotIpAddress: { 'aws:SourceIp': cidrs } },
          },
        ],
      },
    });
    const methods = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method'));
    expect(
      methods.map((method) => [
        method.Properties.HttpMethod,
        (method.Properties.Integration as { Type: string }).Type,
      ]),
    ).toEqual([['POST', 'AWS_PROXY']]);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'webhook',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: webAclArn });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(ingest.fn.function),
      Principal: 'apigateway.amazonaws.com',
    });
    // The function checks the allow-list too: a request that reaches it directly is refused all the same.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(ingest.fn.role),
      Environment: { Variables: Match.objectLike({ ALLOWED_SOURCE_CIDRS: '203.0.113.0/28' }) },
    });
    expect(ingest.webhookUrl).toBe(required(ingest.api, 'api').url);
  });
});

describe('settings change the template', () => {
  test('existing bus by name: no bus created, rules and PutEvents point at it', () => {
    const { template } = synth({ ...VERIFY_ONLY, createBus: false, busName: 'platform-events' });
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'platform-events' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'PublishOnVerifierBus',
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':events:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':event-bus/platform-events',
                ],
              ],
            },
          },
        ]),
      },
    });
  });

  test('deadline drives env and timeout (840 s → 855 s ≤ 900 s); reserved concurrency false removes it', () => {
    const { template } = synth({ ...VERIFY_ONLY, deadlineSeconds: 840, verifyReservedConcurrency: false });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 855,
      ReservedConcurrentExecutions: Match.absent(),
      Environment: { Variables: Match.objectLike({ VERIFY_DEADLINE_SECONDS: '840' }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Threshold: 684_000,
    });
  });

  test('several clusters: one access entry per cluster and role, DescribeCluster on each', () => {
    const { stack, template } = synth({
      ...VERIFY_ONLY,
      clusterNames: ['blue', 'green'],
      clusterName: 'blue',
    });
    template.resourceCountIs('AWS::EKS::AccessEntry', 2);
    const statement = statementsOf(template, stack.verifier.verify.fn).find(
      (st) => st.Sid === 'DescribeNamedClusters',
    );
    expect(JSON.stringify(statement?.Resource)).toMatch(/cluster\/blue.*cluster\/green/);
  });

  test('custom service name, Kubernetes group and log retention', () => {
    const { template } = synth({
      ...VERIFY_ONLY,
      clusterName: 'prod',
      serviceName: 'team-a-verifier',
      kubernetesGroups: { verify: 'team-a-observer' },
      logRetention: RetentionDays.ONE_WEEK,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::EKS::AccessEntry', { KubernetesGroups: ['team-a-observer'] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerificationFailed',
      Dimensions: [{ Name: 'service', Value: 'team-a-verifier' }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'team-a-verifier' }) },
    });
  });

  test('vpc: verify and callback run in it with the VPC access policy; ingest (public webhook) does not', () => {
    const stack = new Stack(testApp(), 'Private');
    const vpc = Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'],
    });
    const verifier = new RolloutVerifier(stack, 'Verifier', { ...FULL, vpc });
    const template = Template.fromStack(stack);
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    const inVpc = Object.entries(functions)
      .filter(([, fn]) => fn.Properties.VpcConfig !== undefined)
      .map(([id]) => id)
      .sort();
    expect(inVpc).toEqual(
      [verifier.verify.fn.function, verifier.callback?.fn.function ?? stack]
        .map((fn) => logicalId(fn))
        .sort(),
    );
    const vpcPolicy = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
      ],
    };
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    expect(roles[logicalId(verifier.verify.fn.role)]?.Properties?.ManagedPolicyArns).toEqual([vpcPolicy]);
    expect(
      roles[logicalId(verifier.ingest?.fn.role ?? stack)]?.Properties?.ManagedPolicyArns,
    ).toBeUndefined();
  });

  test('log groups: no customer key by default; with logEncryptionKey every log group uses it, with its retention', () => {
    const plain = synth(FULL).template;
    for (const group of Object.values(resourcesOfType(plain, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties).toEqual({ RetentionInDays: 30 });
    }

    const stack = new Stack(testApp(), 'Encrypted');
    const key = new Key(stack, 'LogKey', { enableKeyRotation: true });
    new RolloutVerifier(stack, 'Verifier', {
      ...FULL,
      logEncryptionKey: key,
      logRetention: RetentionDays.ONE_YEAR,
    });
    const template = Template.fromStack(stack);
    const groups = Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(3);
    for (const group of groups)
      expect(group.Properties).toEqual({ KmsKeyId: getAtt(key), RetentionInDays: 365 });
    // CloudWatch Logs may use the key for this account's log groups, and nobody else gains anything.
    const policy = required(resourcesOfType(template, 'AWS::KMS::Key')[logicalId(key)], 'the log key')
      .Properties.KeyPolicy as { Statement: Record<string, unknown>[] };
    expect(policy.Statement.filter((statement) => statement.Sid !== undefined)).toEqual([
      {
        Sid: 'CloudWatchLogsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:*',
                ],
              ],
            },
          },
        },
      },
    ]);
  });

  test('an imported log key is used as is, with a note that its policy must allow CloudWatch Logs', () => {
    const stack = new Stack(testApp(), 'Imported');
    const key = Key.fromKeyArn(
      stack,
      'LogKey',
      'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    new RolloutVerifier(stack, 'Verifier', { ...VERIFY_ONLY, logEncryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: key.keyArn });
    expect(
      Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('logEncryptionKey is not managed')),
    ).toHaveLength(1);
  });

  test('customer-managed table key: SSE with that key, and the verify role may use it', () => {
    const stack = new Stack(testApp(), 'Embedded');
    const key = new Key(stack, 'TableKey', { enableKeyRotation: true });
    const verifier = new RolloutVerifier(stack, 'Verifier', { ...VERIFY_ONLY, tableEncryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(key) },
    });
    const kms = statementsOf(template, verifier.verify.fn).filter((st) =>
      (st.Action as string[]).some((action) => action.startsWith('kms:')),
    );
    expect(kms).toEqual([
      {
        Sid: 'StateTableKeyThroughDynamoDb',
        Effect: 'Allow',
        Action: sorted(TABLE_KEY_ACTIONS),
        Resource: getAtt(key),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
    expect(TABLE_KEY_ACTIONS.filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('the traffic look', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ ...FULL, trafficLook: {} });
  });
  const look = () => required(s.stack.verifier.trafficLook, 'the traffic look');

  test("its role's one new grant of substance is cloudwatch:GetMetricData, in the acknowledged policy", () => {
    const fn = look().fn;
    expect(unscopedStatementsOf(s.template, fn)).toEqual([
      X_RAY,
      {
        Sid: 'ReadLoadBalancerMetrics',
        Effect: 'Allow',
        Action: ['cloudwatch:GetMetricData'],
        Resource: '*',
      },
    ]);
    // Scoped: its own logs, its failed-invocation DLQ, the bus, and consuming its own queue (the SQS event source).
    const scoped = statementsOf(s.template, fn);
    expect(scoped.map((statement) => statement.Sid)).toEqual([
      'WriteOwnLogs',
      undefined,
      'PublishOnVerifierBus',
      undefined,
    ]);
    expect(scoped[1]?.Resource).toEqual(getAtt(fn.deadLetterQueue.queue));
    expect(scoped[3]?.Resource).toEqual(getAtt(look().queue));
    expect(sorted([scoped[3]?.Action ?? []].flat())).toEqual(
      sorted([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ]),
    );
  });

  test('the verify role gains nothing: no CloudWatch read, the same statements as without the look', () => {
    const verify = s.stack.verifier.verify.fn;
    const without = synth(FULL);
    expect(JSON.stringify(unscopedStatementsOf(s.template, verify))).not.toContain('cloudwatch');
    expect(unscopedStatementsOf(s.template, verify)).toEqual(
      unscopedStatementsOf(without.template, without.stack.verifier.verify.fn),
    );
  });

  test('succeeded ALB verdicts wait in the queue for window + publication delay, then reach the function', () => {
    const rules = Object.values(resourcesOfType(s.template, 'AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.EventPattern).includes('alb'),
    );
    expect(rules.map((rule) => rule.Properties.EventPattern)).toEqual([
      JSON.parse(JSON.stringify(TRAFFIC_LOOK_TRIGGER_PATTERN)),
    ]);
    const [target] = (rules[0]?.Properties.Targets ?? []) as Record<string, unknown>[];
    expect(target?.Arn).toEqual(getAtt(look().queue));
    expect(target?.DeadLetterConfig).toBeDefined();
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      DelaySeconds: 480,
      VisibilityTimeout: 180,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('its knobs reach the function, and the alarm and dashboard row exist', () => {
    const custom = synth({
      ...FULL,
      trafficLook: { windowSeconds: 600, publicationDelaySeconds: 240, tolerance: 0.1, minRequests: 500 },
    });
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TRAFFIC_WINDOW_SECONDS: '600',
          TRAFFIC_PUBLICATION_DELAY_SECONDS: '240',
          TRAFFIC_TOLERANCE: '0.1',
          TRAFFIC_MIN_REQUESTS: '500',
        }),
      },
    });
    custom.template.hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: 840 });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TrafficObservedFailed',
      Threshold: 1,
    });
    const body = JSON.stringify(s.template.findResources('AWS::CloudWatch::Dashboard'));
    for (const metric of ['ServedCanaryShare', 'ConfiguredCanaryShare', 'Canary5xxRate', 'Stable5xxRate']) {
      expect(body).toContain(`MetricName=\\\\\\"${metric}\\\\\\"`);
    }
  });

  test('refuses a window that SQS cannot delay and knobs out of range', () => {
    expect(() =>
      synth({ ...FULL, trafficLook: { windowSeconds: 840, publicationDelaySeconds: 120 } }),
    ).toThrow(/at most 900/);
    expect(() => synth({ ...FULL, trafficLook: { tolerance: 0.7 } })).toThrow(/tolerance/);
    expect(() => synth({ ...FULL, trafficLook: { minRequests: 0 } })).toThrow(/minRequests/);
  });
});
