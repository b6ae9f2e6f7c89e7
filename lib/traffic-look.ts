import { Duration } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EVENT_BUS_NAME,
  TRAFFIC_MIN_REQUESTS,
  TRAFFIC_PUBLICATION_DELAY_SECONDS,
  TRAFFIC_TOLERANCE,
  TRAFFIC_WINDOW_SECONDS,
} from '../contract/environment.js';
import { TRAFFIC_LOOK_TRIGGER_PATTERN } from '../contract/event-catalog.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import type { VerifierEvents } from './events.js';
import type { HandlerCode } from './handler-code.js';
import type { ResolvedSettings, ResolvedTrafficLook } from './settings.js';
import { VerifierFunction, type VerifierFunctionProps } from './verifier-function.js';
import { grantPutEvents } from './verify.js';

/** The one CloudWatch call the traffic look makes (lambdas/core/traffic/cloudwatch-reader.ts). */
export const TRAFFIC_LOOK_ACTIONS = ['cloudwatch:GetMetricData'];

export interface TrafficLookProps {
  readonly settings: ResolvedSettings;
  readonly look: ResolvedTrafficLook;
  readonly events: VerifierEvents;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * Succeeded ALB verdict → a queue that holds it for the step's window plus CloudWatch's
 * publication delay (SQS DeliveryDelay, at most 15 minutes) → the traffic function: one
 * GetMetricData call, a traffic-observed event on the bus and its metrics. Its own function and
 * bundle, so the verify function neither grows nor gains a CloudWatch grant.
 */
export class TrafficLook extends Construct {
  readonly fn: VerifierFunction;
  /** Holds each look until its window is readable. */
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: TrafficLookProps) {
    super(scope, id);
    const { settings, look } = props;
    const timeout = Duration.seconds(30);
    const failed = new DeadLetterQueue(
      this,
      'FailedLooks',
      'the traffic look queue (looks that failed 3 times)',
      { redriveTarget: true },
    );
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deliveryDelay: Duration.seconds(look.windowSeconds + look.publicationDelaySeconds),
      // Lambda's advice for SQS sources: six times the function timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      // A look is worth little hours after its step; three failed receives move it to FailedLooks long before.
      retentionPeriod: Duration.hours(4),
      deadLetterQueue: { queue: failed.queue, maxReceiveCount: 3 },
    });

    this.fn = new VerifierFunction(this, 'Traffic', {
      code: look.code as HandlerCode,
      description:
        'Reads the split an ALB really served during a verified step from CloudWatch and publishes it',
      memorySize: 256,
      timeout,
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      environment: {
        [EVENT_BUS_NAME]: props.events.bus.eventBusName,
        [TRAFFIC_WINDOW_SECONDS]: String(look.windowSeconds),
        [TRAFFIC_PUBLICATION_DELAY_SECONDS]: String(look.publicationDelaySeconds),
        [TRAFFIC_TOLERANCE]: String(look.tolerance),
        [TRAFFIC_MIN_REQUESTS]: String(look.minRequests),
      },
      ...props.network,
    });
    // cloudwatch:GetMetricData supports no resource-level permissions (IAM authorizes it on * only):
    // read-only, the one call the look makes, in the policy whose wildcard is acknowledged.
    this.fn.addUnscopedStatement(
      new PolicyStatement({
        sid: 'ReadLoadBalancerMetrics',
        actions: TRAFFIC_LOOK_ACTIONS,
        resources: ['*'],
      }),
    );
    grantPutEvents(this.fn, props.events.bus);
    this.fn.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    const ruleFailures = new DeadLetterQueue(this, 'TriggerDeadLetters', "the traffic look rule's target");
    const rule = new Rule(this, 'Trigger', {
      eventBus: props.events.bus,
      eventPattern: {
        source: [...TRAFFIC_LOOK_TRIGGER_PATTERN.source],
        detailType: [...TRAFFIC_LOOK_TRIGGER_PATTERN['detail-type']],
        detail: {
          traffic: { router: [...TRAFFIC_LOOK_TRIGGER_PATTERN.detail.traffic.router] },
          trigger: [...TRAFFIC_LOOK_TRIGGER_PATTERN.detail.trigger],
        },
      },
      description: 'Succeeded ALB verdicts of on-rollout-paused to the traffic look queue',
    });
    rule.addTarget(
      new SqsQueue(this.queue, {
        deadLetterQueue: ruleFailures.queue,
        maxEventAge: Duration.hours(1),
        retryAttempts: 8,
      }),
    );
  }
}
