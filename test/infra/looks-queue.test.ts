import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { afterAll, describe, expect, test } from 'vitest';
import { ROLLOUT_EVENT_PATTERN } from '../../contract/event-catalog.js';
import { settingsFromContext } from '../../lib/context.js';
import {
  MAX_DEADLINE_SECONDS,
  PUBLISH_RESERVE_SECONDS,
  RolloutVerifierConfigError,
  type RolloutVerifierProps,
  resolveSettings,
  VERIFY_TIMEOUT_HEADROOM_SECONDS,
} from '../../lib/settings.js';
import {
  LOOK_QUEUE_MAX_RECEIVE_COUNT,
  LOOK_QUEUE_RETENTION,
  LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR,
} from '../../lib/verify.js';
import {
  cleanup,
  getAtt,
  logicalId,
  resourcesOfType,
  type Synthesized,
  synth,
  tempDir,
  VERIFY_ONLY,
} from './helpers.js';

/**
 * The verify looks queue (issue 16): rollout events reach verify through an SQS queue, and verify
 * sends its continuations back to it, so no verification holds a Lambda slot while it waits.
 */

afterAll(cleanup);

function only<T>(values: readonly T[], what: string): T {
  expect(values, what).toHaveLength(1);
  return values[0] as T;
}

const mappingOf = (s: Synthesized) =>
  only(Object.values(resourcesOfType(s.template, 'AWS::Lambda::EventSourceMapping')), 'one mapping')
    .Properties;

const verifyFunctionOf = (s: Synthesized) =>
  resourcesOfType(s.template, 'AWS::Lambda::Function')[logicalId(s.stack.verifier.verify.fn.function)]
    ?.Properties ?? {};

describe('the default looks queue', () => {
  const s = synth(VERIFY_ONLY);
  const { verify } = s.stack.verifier;
  const queue = () => resourcesOfType(s.template, 'AWS::SQS::Queue')[logicalId(verify.lookQueue)]?.Properties;

  test('encrypted by SQS, redriven to its own dead-letter queue after 5 receives', () => {
    expect(LOOK_QUEUE_MAX_RECEIVE_COUNT).toBe(5);
    expect(queue()).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: getAtt(verify.lookDeadLetters.queue),
        maxReceiveCount: LOOK_QUEUE_MAX_RECEIVE_COUNT,
      },
    });
    // The dead-letter queue is a DeadLetterQueue: encrypted, TLS-only, 14 days, alarmed on.
    expect(
      resourcesOfType(s.template, 'AWS::SQS::Queue')[logicalId(verify.lookDeadLetters.queue)]?.Properties,
    ).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    expect(s.stack.verifier.alarms.alarms.map((alarm) => alarm.node.id)).toContain('VerifyLookDeadLetters');
  });

  test('TLS only: the queue policy denies every request without SecureTransport', () => {
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(verify.lookQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test("visibility timeout: six times the function's timeout, as Lambda advises for SQS sources", () => {
    const timeout = verifyFunctionOf(s).Timeout as number;
    expect(timeout).toBe(45);
    expect(queue()?.VisibilityTimeout).toBe(timeout * LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR);
    expect(LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR).toBe(6);
  });

  test('retention outlasts the way to the dead-letter queue even at the longest deadline, so nothing expires unseen', () => {
    expect(queue()?.MessageRetentionPeriod).toBe(LOOK_QUEUE_RETENTION.toSeconds());
    const longestTimeout = MAX_DEADLINE_SECONDS + PUBLISH_RESERVE_SECONDS + VERIFY_TIMEOUT_HEADROOM_SECONDS;
    const longestDelay = 900;
    const worstWayToDeadLetters =
      LOOK_QUEUE_MAX_RECEIVE_COUNT * LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR * longestTimeout + longestDelay;
    expect(LOOK_QUEUE_RETENTION.toSeconds()).toBeGreaterThan(worstWayToDeadLetters);
    const longest = synth({ ...VERIFY_ONLY, deadlineSeconds: MAX_DEADLINE_SECONDS });
    const longestQueue = resourcesOfType(longest.template, 'AWS::SQS::Queue')[
      logicalId(longest.stack.verifier.verify.lookQueue)
    ]?.Properties;
    expect(longestQueue?.VisibilityTimeout).toBe(longestTimeout * 6);
    expect((longestQueue?.VisibilityTimeout as number) * LOOK_QUEUE_MAX_RECEIVE_COUNT).toBeLessThan(
      longestQueue?.MessageRetentionPeriod as number,
    );
  });

  test('the rollout rule delivers to the queue (the whole event as the body), with retries and a dead-letter queue', () => {
    const [ruleId, rule] = only(
      Object.entries(resourcesOfType(s.template, 'AWS::Events::Rule')).filter(
        ([, candidate]) =>
          JSON.stringify(candidate.Properties.EventPattern) === JSON.stringify(ROLLOUT_EVENT_PATTERN),
      ),
      'the rollout rule',
    );
    const target = only(rule.Properties.Targets as Record<string, unknown>[], 'one target');
    expect(target.Arn).toEqual(getAtt(verify.lookQueue));
    expect(target.Input).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 });
    expect(target.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': [expect.stringContaining('RolloutEventsDeadLetters'), 'Arn'] },
    });
    // EventBridge may send to the queue for this rule only.
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(verify.lookQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  test('no rule invokes verify directly any more: no invoke permission for EventBridge', () => {
    const permissions = Object.values(resourcesOfType(s.template, 'AWS::Lambda::Permission'));
    expect(
      permissions.filter((permission) => permission.Properties.Principal === 'events.amazonaws.com'),
    ).toEqual([]);
  });

  test('the event source mapping: batch 10, partial batch failures, maximum concurrency 5, no batching window', () => {
    expect(mappingOf(s)).toEqual({
      EventSourceArn: getAtt(verify.lookQueue),
      FunctionName: { Ref: logicalId(verify.fn.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    // Never above the reservation: Lambda would throttle the mapping's own invocations.
    expect(verifyFunctionOf(s).ReservedConcurrentExecutions).toBe(5);
  });

  test('the environment names the queue and the look concurrency', () => {
    const variables = (verifyFunctionOf(s).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.VERIFY_QUEUE_URL).toEqual({ Ref: logicalId(verify.lookQueue) });
    expect(variables.VERIFY_LOOK_CONCURRENCY).toBe('5');
  });

  test("verify's role: SendMessage to the looks queue (and its own async dead-letter queue), nothing on any other queue", () => {
    const policy = resourcesOfType(s.template, 'AWS::IAM::Policy')[
      logicalId(verify.fn.role.node.findChild('DefaultPolicy'))
    ];
    const statements = (
      (policy?.Properties.PolicyDocument ?? { Statement: [] }) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      }
    ).Statement.map((statement) => ({ ...statement, Action: [statement.Action].flat() }));
    const onQueues = statements.filter((statement) =>
      statement.Action.some((action) => action.startsWith('sqs:')),
    );
    const allowedQueues = [getAtt(verify.lookQueue), getAtt(verify.fn.deadLetterQueue.queue)].map((arn) =>
      JSON.stringify(arn),
    );
    for (const statement of onQueues) {
      expect(statement.Action.filter((action) => action.includes('*'))).toEqual([]);
      for (const resource of [statement.Resource].flat()) {
        expect(allowedQueues).toContain(JSON.stringify(resource));
      }
    }
    const sendsToLooks = onQueues.some(
      (statement) =>
        statement.Action.includes('sqs:SendMessage') &&
        [statement.Resource].flat().some((resource) => JSON.stringify(resource) === allowedQueues[0]),
    );
    expect(sendsToLooks).toBe(true);
    // Consuming (the mapping) on the looks queue only.
    const receives = onQueues.filter((statement) => statement.Action.includes('sqs:ReceiveMessage'));
    expect(receives.map((statement) => statement.Resource)).toEqual([getAtt(verify.lookQueue)]);
  });

  test('VerifyLooksStarving: the oldest message older than the deadline', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(verify.lookQueue, 'QueueName') }],
      Statistic: 'Maximum',
      Threshold: 30,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(s.stack.verifier.alarms.alarms.map((alarm) => alarm.node.id)).toContain('VerifyLooksStarving');
  });

  test('metricOldestLookAge and metricLooksWaiting read the looks queue; the dashboard draws both', () => {
    const age = s.stack.verifier.metricOldestLookAge();
    const waiting = s.stack.verifier.metricLooksWaiting({ period: Duration.minutes(1) });
    expect([age.namespace, age.metricName, age.statistic, age.period.toMinutes()]).toEqual([
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'Maximum',
      5,
    ]);
    expect([waiting.metricName, waiting.period.toMinutes()]).toEqual([
      'ApproximateNumberOfMessagesVisible',
      1,
    ]);
    expect(Stack.of(s.stack).resolve(age.dimensions)).toEqual({
      QueueName: getAtt(verify.lookQueue, 'QueueName'),
    });
    const dashboard = only(
      Object.values(resourcesOfType(s.template, 'AWS::CloudWatch::Dashboard')),
      'one dashboard',
    );
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain('Verify looks queue');
    expect(body).toContain('ApproximateAgeOfOldestMessage');
  });
});

describe('the mapping follows the props', () => {
  test('verifyLookConcurrency and verifyMaxBatchingWindow', () => {
    const s = synth({
      ...VERIFY_ONLY,
      verifyReservedConcurrency: 20,
      verifyLookConcurrency: 12,
      verifyMaxBatchingWindow: Duration.seconds(2),
    });
    expect(mappingOf(s)).toMatchObject({
      ScalingConfig: { MaximumConcurrency: 12 },
      MaximumBatchingWindowInSeconds: 2,
    });
    const variables = (verifyFunctionOf(s).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.VERIFY_LOOK_CONCURRENCY).toBe('12');
  });

  test('by default the look concurrency is the reservation; without one, 5', () => {
    expect(mappingOf(synth({ ...VERIFY_ONLY, verifyReservedConcurrency: 3 })).ScalingConfig).toEqual({
      MaximumConcurrency: 3,
    });
    const unreserved = synth({ ...VERIFY_ONLY, verifyReservedConcurrency: false });
    expect(mappingOf(unreserved).ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    expect(verifyFunctionOf(unreserved).ReservedConcurrentExecutions).toBeUndefined();
    const wide = synth({ ...VERIFY_ONLY, verifyReservedConcurrency: false, verifyLookConcurrency: 1000 });
    expect(mappingOf(wide).ScalingConfig).toEqual({ MaximumConcurrency: 1000 });
  });
});

describe('validation', () => {
  const scope = () => new Construct(new Stack(new App(), 'Test'), 'Verifier');
  const problemsOf = (props: RolloutVerifierProps): readonly string[] => {
    try {
      resolveSettings(scope(), { ...VERIFY_ONLY, ...props });
    } catch (error) {
      if (error instanceof RolloutVerifierConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  test.each<[string, RolloutVerifierProps, RegExp]>([
    [
      'a look concurrency of 1',
      { verifyLookConcurrency: 1 },
      /verifyLookConcurrency must be an integer from 2 to 1000.*got 1$/,
    ],
    [
      'a look concurrency above 1000',
      { verifyReservedConcurrency: false, verifyLookConcurrency: 1001 },
      /verifyLookConcurrency must be an integer from 2 to 1000.*got 1001$/,
    ],
    [
      'a fractional look concurrency',
      { verifyLookConcurrency: 2.5 },
      /verifyLookConcurrency must be an integer.*got 2.5$/,
    ],
    [
      'a look concurrency above the reservation',
      { verifyReservedConcurrency: 5, verifyLookConcurrency: 6 },
      /verifyLookConcurrency 6 is above verifyReservedConcurrency 5: Lambda would throttle/,
    ],
    [
      'a reservation of 1 (below the mapping minimum)',
      { verifyReservedConcurrency: 1 },
      /verifyReservedConcurrency 1 is below the looks queue's smallest maximum concurrency \(2/,
    ],
    [
      'a batching window above 300 s',
      { verifyMaxBatchingWindow: Duration.seconds(301) },
      /verifyMaxBatchingWindow must be whole seconds from 0 to 300, got 5 minutes 1 second/,
    ],
    [
      'a batching window of a fraction of a second',
      { verifyMaxBatchingWindow: Duration.millis(500) },
      /verifyMaxBatchingWindow must be whole seconds from 0 to 300/,
    ],
  ])('rejects %s', (_name, props, message) => {
    const problems = problemsOf(props);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  test('a bad reservation is reported once, not again as a bad look concurrency', () => {
    expect(problemsOf({ verifyReservedConcurrency: 0 })).toEqual([
      'verifyReservedConcurrency must be an integer from 1 to 1000, or false for none, got 0',
    ]);
  });

  test('accepts the edges', () => {
    expect(problemsOf({ verifyReservedConcurrency: 2 })).toEqual([]);
    expect(problemsOf({ verifyReservedConcurrency: 1000, verifyLookConcurrency: 1000 })).toEqual([]);
    expect(problemsOf({ verifyReservedConcurrency: false, verifyLookConcurrency: 2 })).toEqual([]);
    expect(problemsOf({ verifyMaxBatchingWindow: Duration.seconds(300) })).toEqual([]);
    expect(problemsOf({ verifyMaxBatchingWindow: Duration.minutes(0) })).toEqual([]);
  });

  test('cdk context: -c verifyLookConcurrency=8 -c verifyMaxBatchingWindowSeconds=2', () => {
    const { verifier } = settingsFromContext(
      new App({
        context: { verifyLookConcurrency: '8', verifyMaxBatchingWindowSeconds: '2' },
        outdir: tempDir(),
      }).node,
    );
    expect(verifier.verifyLookConcurrency).toBe(8);
    expect(verifier.verifyMaxBatchingWindow?.toSeconds()).toBe(2);
  });
});
