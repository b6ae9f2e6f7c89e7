import { Duration } from 'aws-cdk-lib';
import { type Metric, type MetricOptions, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EVENT_BUS_NAME,
  STATE_TABLE_NAME,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_LOOK_CONCURRENCY,
  VERIFY_PUBLISH_RESERVE_MS,
  VERIFY_QUEUE_URL,
} from '../contract/environment.js';
import { ROLLOUT_EVENT_PATTERN } from '../contract/event-catalog.js';
import { clusterEnvironment, grantClusterSecrets } from './cluster-access.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import type { VerifierEvents } from './events.js';
import { PUBLISH_RESERVE_SECONDS, type ResolvedSettings } from './settings.js';
import type { StateTable } from './state-table.js';
import { VerifierFunction, type VerifierFunctionProps } from './verifier-function.js';

/** The ELBv2 read calls the ALB router makes (lambdas/core/routers/alb), and nothing else. */
export const ELB_DESCRIBE_ACTIONS = [
  'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTargetHealth',
];

/**
 * Receives of one looks-queue message before it moves to the looks dead-letter queue. A receive
 * ends in a retry only when its verification threw (a bug, or a fault verify could not turn into
 * an Inconclusive verdict); a verification that must wait longer is a new message (a continuation),
 * so waiting never counts here.
 */
export const LOOK_QUEUE_MAX_RECEIVE_COUNT = 5;
/** Lambda's advice for an SQS event source: a visibility timeout of six times the function timeout. */
export const LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * How long the looks queue keeps a message: longer than a message's way to the dead-letter queue
 * at the longest deadline (5 receives × 6 × 855 s ≈ 7.1 h, plus SQS's 15-minute delay), so a
 * message is moved there, never expired unseen. An event that old is stale and verify skips it.
 */
export const LOOK_QUEUE_RETENTION = Duration.days(1);
/** The batch size of the looks queue's event source mapping: records of one batch share their ELBv2 reads. */
export const LOOK_BATCH_SIZE = 10;

export interface VerifyProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
  readonly table: StateTable;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * Rollout event → the looks queue → verify looks at the ALB; while it must wait longer than a
 * moment, it sends the verification back to the queue with a delay (a continuation) instead of
 * holding a Lambda slot → verdict event + metrics once it matches or the deadline passes.
 */
export class Verify extends Construct {
  readonly fn: VerifierFunction;
  /**
   * The looks queue: rollout events from the bus (the whole EventBridge event as the body) and
   * verify's delayed continuations. Its event source mapping runs verify.
   */
  readonly lookQueue: Queue;
  /** Where a looks-queue message goes after LOOK_QUEUE_MAX_RECEIVE_COUNT failed receives (alarmed). */
  readonly lookDeadLetters: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: VerifyProps) {
    super(scope, id);
    const { settings } = props;
    const timeout = Duration.seconds(settings.verifyTimeoutSeconds);
    this.lookDeadLetters = new DeadLetterQueue(
      this,
      'LookDeadLetters',
      `the looks queue (verifications whose delivery failed ${LOOK_QUEUE_MAX_RECEIVE_COUNT} times)`,
      { redriveTarget: true },
    );
    this.lookQueue = new Queue(this, 'Looks', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A batch in flight stays invisible until it is done, with room for Lambda's own retries of a throttled batch.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * LOOK_QUEUE_VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: LOOK_QUEUE_RETENTION,
      deadLetterQueue: { queue: this.lookDeadLetters.queue, maxReceiveCount: LOOK_QUEUE_MAX_RECEIVE_COUNT },
    });
    this.fn = new VerifierFunction(this, 'Verify', {
      code: settings.verifyCode,
      description: 'Verifies an Argo Rollouts step against the real ALB state and publishes the verdict',
      memorySize: 256,
      // Deadline + publish reserve + headroom: the handler caps its own deadline to what is left.
      timeout,
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      reservedConcurrentExecutions: settings.verifyReservedConcurrency,
      // Verify is no longer invoked asynchronously: the looks queue's mapping invokes it synchronously,
      // and the queue's redrive handles failures. VerifierFunction's async defaults (1 retry, 1 hour,
      // FailedInvocations) stay for the asynchronous events Lambda still holds from before the upgrade:
      // they land in that alarmed dead-letter queue instead of vanishing.
      environment: {
        [EVENT_BUS_NAME]: props.events.bus.eventBusName,
        [VERIFY_QUEUE_URL]: this.lookQueue.queueUrl,
        [VERIFY_LOOK_CONCURRENCY]: String(settings.verifyLookConcurrency),
        [VERIFY_DEADLINE_SECONDS]: String(settings.deadlineSeconds),
        [VERIFY_PUBLISH_RESERVE_MS]: String(PUBLISH_RESERVE_SECONDS * 1000),
        [STATE_TABLE_NAME]: props.table.table.tableName,
        // With cluster access, IP-mode target registrations are checked against EndpointSlices.
        ...clusterEnvironment(this, settings),
      },
      ...props.network,
    });
    grantClusterSecrets(this.fn.role, settings.clusterSecrets);

    // ELBv2 Describe* has no resource-level permissions (the service authorizes these on * only):
    // read-only, and limited to the six calls the ALB router makes.
    this.fn.addUnscopedStatement(
      new PolicyStatement({ sid: 'ReadLoadBalancers', actions: ELB_DESCRIBE_ACTIONS, resources: ['*'] }),
    );
    grantPutEvents(this.fn, props.events.bus);
    // Powertools idempotency records keyed by the rollout event's eventId: a duplicate delivery is verified once.
    props.table.grantItems(this.fn.role, 'verify');

    // Continuations: a verification that must wait goes back to the queue with a delay.
    this.lookQueue.grantSendMessages(this.fn.role);
    // The mapping grants the consuming side (ReceiveMessage, DeleteMessage, ChangeMessageVisibility).
    this.fn.function.addEventSource(
      new SqsEventSource(this.lookQueue, {
        batchSize: LOOK_BATCH_SIZE,
        ...(settings.verifyMaxBatchingWindowSeconds > 0
          ? { maxBatchingWindow: Duration.seconds(settings.verifyMaxBatchingWindowSeconds) }
          : {}),
        // One failed verification is retried alone, not with the nine others of its batch.
        reportBatchItemFailures: true,
        // At most the reservation (resolveSettings checks it): the mapping is never throttled by its own function.
        maxConcurrency: settings.verifyLookConcurrency,
      }),
    );

    props.events.route(
      'RolloutEvents',
      ROLLOUT_EVENT_PATTERN,
      this.lookQueue,
      'Rollout events to the verify looks queue',
    );
  }

  /**
   * Age of the oldest message in the looks queue, in seconds (SQS ApproximateAgeOfOldestMessage):
   * above the deadline, verifications wait longer for a Lambda slot than they may take in all.
   * @default maximum over 5 minutes
   */
  metricOldestLookAge(props?: MetricOptions): Metric {
    return this.lookQueue.metricApproximateAgeOfOldestMessage({
      statistic: Stats.MAXIMUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * Verifications ready for a look and not yet taken (SQS ApproximateNumberOfMessagesVisible; the
   * delayed continuations are not counted).
   * @default maximum over 5 minutes
   */
  metricLooksWaiting(props?: MetricOptions): Metric {
    return this.lookQueue.metricApproximateNumberOfMessagesVisible({
      statistic: Stats.MAXIMUM,
      period: Duration.minutes(5),
      ...props,
    });
  }
}

/** Publishing on this project's bus only: the verdicts (verify) or the normalized rollout events (ingest). */
export function grantPutEvents(fn: VerifierFunction, bus: IEventBus): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: 'PublishOnVerifierBus',
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
    }),
  );
}
