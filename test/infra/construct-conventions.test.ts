import { NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, test } from 'vitest';
import { ROLLOUT_EVENT_PATTERN } from '../../contract/event-catalog.js';
import { RolloutVerifier } from '../../lib/rollout-verifier.js';
import { duplicatePhysicalNames, physicalNames } from '../support/physical-names.js';
import { cleanup, resourcesOfType, testApp } from './helpers.js';

/** What a platform team embedding the construct relies on, with aws-cdk-lib's own L2s as the model. */

afterAll(cleanup);

function stackWith(build: (stack: Stack) => void): { stack: Stack; template: Template } {
  const stack = new Stack(testApp(), 'Platform');
  build(stack);
  return { stack, template: Template.fromStack(stack) };
}

describe('several verifiers', () => {
  const app = testApp();
  const first = new Stack(app, 'First');
  const second = new Stack(app, 'Second');
  const a = new RolloutVerifier(first, 'A');
  const b = new RolloutVerifier(first, 'B');
  const c = new RolloutVerifier(second, 'A');
  const templates = [first, second].map((stack) => ({ stack, template: Template.fromStack(stack).toJSON() }));

  test('two in one stack and one in another stack share no physical name', () => {
    const names = templates.flatMap(({ stack, template }) => physicalNames(stack.stackName, template));
    expect(names.length).toBeGreaterThan(0);
    expect(duplicatePhysicalNames(names)).toEqual([]);
  });

  test('only the buses are named, from the stack name and the construct path', () => {
    const names = templates.flatMap(({ stack, template }) => physicalNames(stack.stackName, template));
    expect(names.map(({ type, name }) => `${type} ${name}`).sort()).toEqual([
      expect.stringMatching(/^AWS::Events::EventBus First-A-Events-[0-9A-F]{8}$/),
      expect.stringMatching(/^AWS::Events::EventBus First-B-Events-[0-9A-F]{8}$/),
      expect.stringMatching(/^AWS::Events::EventBus Second-A-Events-[0-9A-F]{8}$/),
    ]);
  });

  test('each counts its own verdicts: service names differ by default', () => {
    expect([a, b, c].map((verifier) => verifier.settings.serviceName)).toEqual([
      'First-A',
      'First-B',
      'Second-A',
    ]);
  });

  test('a name that would not fit the service name (64 characters) or is known only at deploy time: a hash of the path', () => {
    const long = new RolloutVerifier(new Stack(testApp(), 'S'.repeat(60)), 'Verifier');
    const nested = new RolloutVerifier(new NestedStack(new Stack(testApp(), 'Parent'), 'Child'), 'Verifier');
    for (const verifier of [long, nested]) {
      expect(verifier.settings.serviceName).toMatch(/^rollout-verifier-[0-9a-f]{16}$/);
    }
    expect(long.settings.serviceName).not.toBe(nested.settings.serviceName);
  });
});

describe('metric*() helpers', () => {
  const stack = new Stack(testApp(), 'Platform');
  const verifier = new RolloutVerifier(stack, 'Verifier', { serviceName: 'team-a' });

  test.each([
    ['metricVerificationsSucceeded', 'VerificationSucceeded', 'Sum'],
    ['metricVerificationsFailed', 'VerificationFailed', 'Sum'],
    ['metricVerificationsInconclusive', 'VerificationInconclusive', 'Sum'],
    ['metricVerificationsSuperseded', 'VerificationSuperseded', 'Sum'],
    ['metricTimeToVerdict', 'TimeToVerdictMs', 'Average'],
  ] as const)('%s reads %s of this verifier (%s over 5 minutes)', (method, metricName, statistic) => {
    const metric = verifier[method]();
    expect(metric.namespace).toBe('RolloutVerifier');
    expect(metric.metricName).toBe(metricName);
    expect(metric.dimensions).toEqual({ service: 'team-a' });
    expect(metric.statistic).toBe(statistic);
    expect(metric.period.toMinutes()).toBe(5);
  });

  test('options override the defaults; extra dimensions add to the service one', () => {
    const metric = verifier.metric('WeightDrift', {
      statistic: 'Maximum',
      dimensionsMap: { Rollout: 'shop/checkout' },
    });
    expect(metric.statistic).toBe('Maximum');
    expect(metric.dimensions).toEqual({ service: 'team-a', Rollout: 'shop/checkout' });
  });

  test('the alarms read the same metric as the helper', () => {
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'RolloutVerifier',
      MetricName: verifier.metricVerificationsFailed().metricName,
      Dimensions: [{ Name: 'service', Value: 'team-a' }],
    });
  });
});

describe('onVerdict and grantPutRolloutEvents', () => {
  test('onVerdict delivers the chosen verdicts on the verifier bus to a target', () => {
    const { template, stack } = stackWith((stack) => {
      const verifier = new RolloutVerifier(stack, 'Verifier');
      verifier.onVerdict('FailuresToOps', {
        target: new SqsQueue(new Queue(stack, 'Ops')),
        verdicts: ['Failed', 'Inconclusive'],
      });
    });
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(
        stack.getLogicalId(stack.node.findChild('Ops').node.defaultChild as never),
      ),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['rollout-verifier.verify'],
      'detail-type': ['Rollout Verification Failed', 'Rollout Verification Inconclusive'],
    });
    expect(JSON.stringify(rules[0]?.Properties.EventBusName)).toContain('VerifierEventsBus');
  });

  test('onVerdict without verdicts delivers all three; an unknown verdict fails naming the construct', () => {
    const stack = new Stack(testApp(), 'Platform');
    const verifier = new RolloutVerifier(stack, 'Verifier');
    const rule = verifier.onVerdict('All');
    expect(
      Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as never)]
        .Properties.EventPattern['detail-type'],
    ).toEqual([
      'Rollout Verification Succeeded',
      'Rollout Verification Failed',
      'Rollout Verification Inconclusive',
    ]);
    expect(() => verifier.onVerdict('Bad', { verdicts: ['Passed' as 'Failed'] })).toThrow(
      'Platform/Verifier: onVerdict("Bad") verdicts must be some of Succeeded, Failed, Inconclusive',
    );
  });

  test('grantPutRolloutEvents: PutEvents on this bus, for the ingest source and rollout detail-types only', () => {
    const { template } = stackWith((stack) => {
      const verifier = new RolloutVerifier(stack, 'Verifier');
      verifier.grantPutRolloutEvents(
        new Role(stack, 'Publisher', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
      );
    });
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes('Publisher'),
    );
    expect(policies).toHaveLength(1);
    const document = policies[0]?.Properties.PolicyDocument as { Statement: unknown[] } | undefined;
    expect(document?.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^VerifierEventsBus/), 'Arn'] },
        Condition: {
          StringEquals: {
            // The contract's pattern, whose exact names test/unit/contracts.test.ts pins.
            'events:source': ['rollout-verifier.ingest'],
            'events:detail-type': ROLLOUT_EVENT_PATTERN['detail-type'],
          },
        },
      },
    ]);
  });

  test('eventBus: rules go to the given bus and none is created', () => {
    const { template } = stackWith((stack) => {
      new RolloutVerifier(stack, 'Verifier', {
        eventBus: new EventBus(stack, 'Platform', { eventBusName: 'platform' }),
      });
    });
    template.resourceCountIs('AWS::Events::EventBus', 1);
    for (const rule of Object.values(resourcesOfType(template, 'AWS::Events::Rule'))) {
      expect(JSON.stringify(rule.Properties.EventBusName)).toMatch(/^\{"Ref":"Platform[0-9A-F]{8}"\}$/);
    }
  });
});

describe('removalPolicy', () => {
  const STATEFUL = [
    'AWS::DynamoDB::Table',
    'AWS::Logs::LogGroup',
    'AWS::KMS::Key',
    'AWS::SNS::Topic',
    'AWS::SQS::Queue',
    'AWS::SecretsManager::Secret',
  ];
  const deletionPolicies = (removalPolicy?: RemovalPolicy) => {
    const { template } = stackWith((stack) => {
      new RolloutVerifier(stack, 'Verifier', removalPolicy === undefined ? {} : { removalPolicy });
    });
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; DeletionPolicy?: string }
    >;
    const byType: Record<string, string[]> = {};
    for (const { Type, DeletionPolicy } of Object.values(resources)) {
      if (STATEFUL.includes(Type))
        byType[Type] = [...new Set([...(byType[Type] ?? []), DeletionPolicy ?? '(none)'])];
    }
    return byType;
  };

  test('by default each keeps its own: table, log groups and key retained; queues, topic and secrets deleted', () => {
    expect(deletionPolicies()).toEqual({
      'AWS::DynamoDB::Table': ['Retain'],
      'AWS::Logs::LogGroup': ['Retain'],
      'AWS::KMS::Key': ['Retain'],
      'AWS::SNS::Topic': ['(none)'],
      'AWS::SQS::Queue': ['Delete'],
      'AWS::SecretsManager::Secret': ['Delete'],
    });
  });

  test.each([
    [RemovalPolicy.DESTROY, 'Delete'],
    [RemovalPolicy.RETAIN, 'Retain'],
  ])('%s applies to every stateful resource', (removalPolicy, expected) => {
    expect(deletionPolicies(removalPolicy)).toEqual(
      Object.fromEntries(STATEFUL.map((type) => [type, [expected]])),
    );
  });
});

test('a settings error names the construct path of the verifier at fault', () => {
  const stack = new Stack(testApp(), 'Platform');
  new RolloutVerifier(stack, 'Good');
  expect(() => new RolloutVerifier(stack, 'Bad', { deadlineSeconds: 0 })).toThrow(
    /^invalid RolloutVerifier settings at Platform\/Bad:\n {2}- deadlineSeconds/,
  );
});
