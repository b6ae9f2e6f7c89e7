import { Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VERDICT_EVENT_PATTERN } from '../../contract/event-catalog.js';
import {
  HISTORY_PARTITION_KEY,
  HISTORY_SORT_KEY,
  HISTORY_TTL_ATTRIBUTE,
  WATCH_PARTITION,
} from '../../contract/history-table.js';
import { HISTORY_READ_ACTIONS, HISTORY_WRITE_ACTIONS, WATCH_LIST_ACTIONS } from '../../lib/history.js';
import { resolveSettings } from '../../lib/settings.js';
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
} from './helpers.js';

afterAll(cleanup);

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statementsOf(template: Template, policy: IConstruct): Statement[] {
  const resource = resourcesOfType(template, 'AWS::IAM::Policy')[logicalId(policy)];
  if (!resource) throw new Error(`no policy ${policy.node.path}`);
  return (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
    ...statement,
    Action: [statement.Action].flat().sort(),
  }));
}
const scoped = (template: Template, fn: VerifierFunction) =>
  statementsOf(template, fn.role.node.findChild('DefaultPolicy'));
const unscoped = (template: Template, fn: VerifierFunction) => statementsOf(template, fn.unscopedPolicy);

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}

describe('the default stack with a cluster: history and analysis gate', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({
      clusterName: 'prod',
      ingest: { entry: PLACEHOLDER_ENTRY },
      callback: { entry: PLACEHOLDER_ENTRY },
    });
  });

  test('the history table: rollout / entry keys, TTL, PITR, encrypted, retained', () => {
    const history = required(s.stack.verifier.history, 'history');
    const table = resourcesOfType(s.template, 'AWS::DynamoDB::Table')[logicalId(history.table)];
    expect(table?.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: HISTORY_PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: HISTORY_SORT_KEY, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: HISTORY_TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: Match.arrayWith([{ AttributeName: HISTORY_SORT_KEY, KeyType: 'RANGE' }]),
      }),
      DeletionPolicy: 'Retain',
    });
  });

  test('the recorder: a rule delivers every verdict to it; it may only put items in the history', () => {
    const history = required(s.stack.verifier.history, 'history');
    const rules = Object.values(resourcesOfType(s.template, 'AWS::Events::Rule'));
    const toRecorder = rules.filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(logicalId(history.fn.function)),
    );
    expect(toRecorder.map((rule) => rule.Properties.EventPattern)).toEqual([
      JSON.parse(JSON.stringify(VERDICT_EVENT_PATTERN)),
    ]);
    const statements = scoped(s.template, history.fn);
    expect(statements.map((st) => [st.Sid, st.Action])).toEqual([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
      [undefined, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
      ['RecordVerdicts', HISTORY_WRITE_ACTIONS],
      ['UpdateWatchList', WATCH_LIST_ACTIONS],
    ]);
    expect(statements[2]?.Resource).toEqual(getAtt(history.table));
    expect(statements[3]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [WATCH_PARTITION] },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(history.fn.role),
      Environment: { Variables: Match.objectLike({ HISTORY_RETENTION_DAYS: '90' }) },
    });
  });

  test('the gate: a Function URL (auth NONE, checked by the function), its output, and a least-privilege role', () => {
    const gate = required(s.stack.verifier.gate, 'gate');
    const history = required(s.stack.verifier.history, 'history');
    const ingest = required(s.stack.verifier.ingest, 'ingest');
    s.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: getAtt(gate.fn.function),
    });
    const outputs = s.template.findOutputs('*');
    expect(Object.keys(outputs).some((key) => key.includes('AnalysisGateUrl'))).toBe(true);
    expect(Object.keys(outputs)).toContain('HistoryTableName');

    const statements = scoped(s.template, gate.fn);
    expect(statements.map((st) => [st.Sid, st.Action])).toEqual([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
      [undefined, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
      ['ReadVerdictHistory', HISTORY_READ_ACTIONS],
      ['RecordVerdicts', HISTORY_WRITE_ACTIONS],
      ['UpdateWatchList', WATCH_LIST_ACTIONS],
      ['ReadWebhookTokens', ['secretsmanager:GetSecretValue']],
      ['DescribeNamedClusters', ['eks:DescribeCluster']],
    ]);
    expect(statements[2]?.Resource).toEqual(getAtt(history.table));
    expect(statements[3]?.Resource).toEqual(getAtt(history.table));
    // The same token secrets as the webhook: a cluster's token opens the gate for that cluster only.
    expect(statements[5]?.Resource).toEqual({ Ref: logicalId(required(ingest.tokens[0], 'token').secret) });
    expect(unscoped(s.template, gate.fn).map((st) => [st.Sid, st.Action])).toEqual([
      ['WriteTraces', ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']],
      ['ReadLoadBalancers', [...ELB_DESCRIBE_ACTIONS].sort()],
    ]);
  });

  test('the gate reads the cluster as the observer: its own access entry in the observer group', () => {
    const gate = required(s.stack.verifier.gate, 'gate');
    const entries = Object.values(resourcesOfType(s.template, 'AWS::EKS::AccessEntry')).map(
      (e) => e.Properties,
    );
    expect(entries).toContainEqual({
      ClusterName: 'prod',
      PrincipalArn: getAtt(gate.fn.role),
      Type: 'STANDARD',
      KubernetesGroups: ['rollout-verifier-observer'],
    });
  });
});

describe('the drift sentinel', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ clusterName: 'prod', sentinel: { interval: Duration.minutes(10), describeShare: 0.2 } });
  });

  test('an EventBridge Scheduler schedule invokes it at the interval, with a role of its own', () => {
    const sentinel = required(s.stack.verifier.sentinel, 'sentinel');
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: getAtt(sentinel.fn.function),
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    });
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  test('one run at a time, its Describe share and interval in its environment, a drift alarm', () => {
    const sentinel = required(s.stack.verifier.sentinel, 'sentinel');
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(sentinel.fn.role),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          DRIFT_DESCRIBE_SHARE: '0.2',
          DRIFT_INTERVAL_SECONDS: '600',
          DRIFT_WATCH_AFTER_SETTLED_SECONDS: '3600',
          CLUSTER_NAMES: 'prod',
        }),
      },
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerificationDrift',
      Threshold: 1,
    });
  });

  test('its role: the history (read, record, watch list), the bus, the observer group, ELBv2 Describe', () => {
    const sentinel = required(s.stack.verifier.sentinel, 'sentinel');
    expect(scoped(s.template, sentinel.fn).map((st) => st.Sid)).toEqual([
      'WriteOwnLogs',
      undefined,
      'ReadVerdictHistory',
      'RecordVerdicts',
      'UpdateWatchList',
      'PublishOnVerifierBus',
      'DescribeNamedClusters',
    ]);
    expect(unscoped(s.template, sentinel.fn).map((st) => st.Sid)).toEqual([
      'WriteTraces',
      'ReadLoadBalancers',
    ]);
    const entries = Object.values(resourcesOfType(s.template, 'AWS::EKS::AccessEntry')).map(
      (e) => e.Properties,
    );
    expect(entries).toContainEqual({
      ClusterName: 'prod',
      PrincipalArn: getAtt(sentinel.fn.role),
      Type: 'STANDARD',
      KubernetesGroups: ['rollout-verifier-observer'],
    });
  });

  test('without a cluster (nothing to read live) or without the history there is no sentinel', () => {
    expect(synth({}).stack.verifier.sentinel).toBeUndefined();
    expect(
      synth({ clusterName: 'prod', history: { enabled: false } }).stack.verifier.sentinel,
    ).toBeUndefined();
  });
});

describe('settings', () => {
  const scope = () => new Stack(testApp(), 'S');

  test('history retention and gate timeout reach the functions', () => {
    const { stack, template } = synth({
      clusterName: 'prod',
      history: { retention: Duration.days(7) },
      gate: { timeout: Duration.seconds(45) },
    });
    const gate = required(stack.verifier.gate, 'gate');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(gate.fn.role),
      Timeout: 45,
      Environment: {
        Variables: Match.objectLike({ HISTORY_RETENTION_DAYS: '7', VERIFY_DEADLINE_SECONDS: '30' }),
      },
    });
  });

  test.each([
    ['a retention of part of a day', { history: { retention: Duration.hours(36) } }, /history.retention/],
    ['a gate timeout above 15 minutes', { gate: { timeout: Duration.minutes(16) } }, /gate.timeout/],
    [
      'the gate without the history',
      { history: { enabled: false }, gate: { enabled: true } },
      /gate needs the history/,
    ],
    [
      'a sentinel interval of seconds',
      { clusterName: 'prod', sentinel: { interval: Duration.seconds(90) } },
      /sentinel.interval/,
    ],
    ['a Describe share above 1', { clusterName: 'prod', sentinel: { describeShare: 1.5 } }, /describeShare/],
    ['a sentinel without clusters', { sentinel: { enabled: true } }, /sentinel needs/],
  ] as const)('refused: %s', (_name, props, message) => {
    expect(() => resolveSettings(scope(), props)).toThrow(message);
  });

  test('no history: neither table nor gate; no ingest: no gate (it needs the token secrets)', () => {
    expect(resolveSettings(scope(), { history: { enabled: false } }).gate.enabled).toBe(false);
    expect(resolveSettings(scope(), { ingest: { enabled: false } }).gate.enabled).toBe(false);
    const { stack } = synth({ history: { enabled: false } });
    expect(stack.verifier.history).toBeUndefined();
    expect(stack.verifier.gate).toBeUndefined();
  });
});
