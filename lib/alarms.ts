import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { TRAFFIC_OBSERVED_METRIC_NAMES, VERDICT_METRIC_NAMES, verifierMetric } from './metrics.js';
import type { VerifierFunction } from './verifier-function.js';

export interface AlarmsProps {
  readonly serviceName: string;
  /**
   * Subscribed to the topic the stack creates.
   * @default none
   */
  readonly alarmEmail?: string;
  /**
   * Notify this topic instead of creating one.
   * @default a KMS-encrypted topic created here
   */
  readonly alarmTopic?: ITopic;
  readonly verify: VerifierFunction;
  /**
   * The looks queue's oldest message age (seconds) and the verification deadline it is held to:
   * the VerifyLooksStarving alarm.
   */
  readonly verifyLooks: { readonly oldestAge: IMetric; readonly deadlineSeconds: number };
  readonly functions: readonly VerifierFunction[];
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly ingestEnabled: boolean;
  /** IngestAuthenticationFailures per 5 minutes, in 2 of 3 periods, that raise the alarm. */
  readonly authenticationFailureAlarmThreshold: number;
  readonly callbackEnabled: boolean;
  /**
   * Alarm on traffic looks that found a mismatched served split.
   * @default false
   */
  readonly trafficLookEnabled?: boolean;

  /**
   * The drift sentinel runs: alarm on drift.
   * @default false
   */
  readonly sentinelEnabled?: boolean;
}

/**
 * Every alarm an operator needs, all sending to one SNS topic. Missing data is "not breaching":
 * no rollouts, no data, no alarm.
 */
export class Alarms extends Construct {
  readonly topic: ITopic;
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = props.alarmTopic ?? this.createTopic(props.alarmEmail);
    this.action = new SnsAction(this.topic);
    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const metric = (name: string, period: Duration) => verifierMetric(props.serviceName, name, { period });

    this.add('VerificationFailed', metric(VERDICT_METRIC_NAMES.failed, minute), {
      threshold: 1,
      description:
        'A rollout step was verified as Failed: the ALB does not carry the expected weights or the canary ' +
        'targets are unhealthy. Look at the "Rollout Verification Failed" event or `kubectl describe rollout`.',
    });
    this.add('VerificationInconclusive', metric(VERDICT_METRIC_NAMES.inconclusive, fiveMinutes), {
      threshold: 1,
      description:
        'The verifier could not observe a rollout (AccessDenied, throttling past the deadline, resource not ' +
        'found). The verdict event names the cause, and the missing IAM action for AccessDenied.',
    });
    if (props.sentinelEnabled) {
      this.add('VerificationDrift', metric('VerificationDrift', fiveMinutes), {
        threshold: 1,
        description:
          'The drift sentinel re-verified a rollout verified earlier and the load balancer or its routes no ' +
          'longer match (an edited listener rule, a reverted VirtualService, a target group that lost its ' +
          'targets). The "Rollout Verification Drift" event carries the findings and the evidence.',
      });
    }
    if (props.ingestEnabled) {
      // A rate, not one request: scanners find public URLs, and a single 401 is nobody's emergency.
      this.add('IngestAuthenticationFailures', metric('IngestAuthenticationFailures', fiveMinutes), {
        threshold: props.authenticationFailureAlarmThreshold,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description:
          `The webhook refused ${props.authenticationFailureAlarmThreshold} or more requests for a missing or wrong ` +
          'bearer token in 2 of the last 3 five-minute periods: a sustained probe or flood of the URL (see the ' +
          'source IPs in the ingest log; docs/security.md), or a cluster with a wrong token.',
      });
      this.add('IngestClusterMismatches', metric('IngestClusterMismatches', fiveMinutes), {
        threshold: 1,
        description:
          'A request carried a valid webhook token of one cluster but named another (?cluster=): a stranger ' +
          "cannot do that, so either one cluster's argo-rollouts-notification-secret holds another cluster's " +
          "URL or token, or someone who read one cluster's secret is trying to act for another. The ingest log " +
          'names both clusters and the source IP.',
      });
      this.add('IngestExpiredTokens', metric('IngestExpiredTokens', fiveMinutes), {
        threshold: 1,
        description:
          'A cluster still sends its previous webhook token after the rotation window: its notifications are ' +
          'refused (401) and its rollouts are not verified. Put the current token into its ' +
          'argo-rollouts-notification-secret; the ingest log names the cluster.',
      });
      // Both answer Argo 5xx: it retries a few times, then the notification is lost for good.
      const unavailable = new MathExpression({
        expression: 'FILL(tokenStore, 0) + FILL(publish, 0) + FILL(internal, 0)',
        usingMetrics: {
          tokenStore: metric('IngestTokenStoreFailures', fiveMinutes),
          publish: metric('IngestPublishFailures', fiveMinutes),
          internal: metric('IngestInternalErrors', fiveMinutes),
        },
        label: 'Ingest 5xx answers',
        period: fiveMinutes,
      });
      this.add('IngestUnavailable', unavailable, {
        threshold: 1,
        description:
          'The webhook answered 5xx: Secrets Manager (the bearer token) or EventBridge (publishing) failed, ' +
          'or the handler hit a bug. Argo retries, but a rollout event may be lost: see the ingest log group.',
      });
    }
    if (props.callbackEnabled) {
      this.add('CallbackErrors', metric('CallbackErrors', fiveMinutes), {
        threshold: 1,
        description: 'A verdict could not be written back to the cluster (event, abort or promote).',
      });
    }

    if (props.trafficLookEnabled) {
      this.add('TrafficObservedFailed', metric(TRAFFIC_OBSERVED_METRIC_NAMES.failed, fiveMinutes), {
        threshold: 1,
        description:
          'The ALB served a canary share the configured weights do not explain (ObservedSplitMismatch): ' +
          'stickiness, slow start, cross-zone imbalance or client retries. Report only: nothing was aborted. ' +
          'See the "Rollout Traffic Observed Failed" event (docs/traffic-observed.md).',
      });
    }

    for (const fn of props.functions) {
      const name = fn.node.id;
      this.add(
        `${name}FunctionErrors`,
        fn.function.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
        {
          threshold: 1,
          description: `The ${name} function threw: see its log group.`,
        },
      );
      this.add(
        `${name}FunctionThrottles`,
        fn.function.metricThrottles({ period: fiveMinutes, statistic: Stats.SUM }),
        {
          threshold: 1,
          description: `The ${name} function was throttled: its reserved concurrency or the account limit is reached.`,
        },
      );
    }

    const timeoutMs = props.verify.function.timeout?.toMilliseconds() ?? 0;
    this.add(
      'VerifyDurationNearTimeout',
      props.verify.function.metricDuration({ period: fiveMinutes, statistic: Stats.p(99) }),
      {
        threshold: Math.floor(timeoutMs * 0.8),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `p99 of the verify function's duration is above 80% of its ${timeoutMs / 1000} s timeout.`,
      },
    );

    // A continuation waits at most until its verification's deadline: a message older than the
    // deadline has waited for a Lambda slot, not for the ALB.
    const { deadlineSeconds } = props.verifyLooks;
    this.add('VerifyLooksStarving', props.verifyLooks.oldestAge, {
      threshold: deadlineSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `A message waited in the verify looks queue longer than the ${deadlineSeconds} s deadline: verifications ` +
        'are starving (verdicts arrive late or Inconclusive). Raise verifyLookConcurrency (and ' +
        'verifyReservedConcurrency), or look for verify errors and throttles.',
    });

    for (const dlq of props.deadLetterQueues) {
      this.add(
        `${dlq.node.scope?.node.id ?? ''}${dlq.node.id}`,
        dlq.queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: Stats.MAXIMUM }),
        {
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          description: `Messages wait in the dead-letter queue of ${dlq.purpose}: inspect and redrive them.`,
        },
      );
    }
  }

  private add(
    id: string,
    metric: IMetric,
    options: {
      threshold: number;
      description: string;
      comparisonOperator?: ComparisonOperator;
      /** Periods looked at, and how many of them must breach. @default 1 of 1 */
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
  }

  /**
   * KMS-encrypted, TLS-only topic. CloudWatch may use the key (the AWS-managed SNS key does not
   * allow it), but only on behalf of this stack's alarms in this account: without the source
   * conditions, any account's alarm could have CloudWatch encrypt with it (the confused deputy).
   * The alarms have no names of their own (two verifiers must not collide): CloudFormation names
   * them `<stack name>-<logical id>-<suffix>`, hence the `<stack name>-*` pattern. (Naming the
   * alarms' ARNs instead would be a cycle: alarm → topic → key → alarm.)
   */
  private createTopic(alarmEmail: string | undefined): Topic {
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the rollout-verifier alarm topic',
      enableKeyRotation: true,
    });
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStack',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${stack.stackName}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    const topic = new Topic(this, 'Topic', {
      displayName: 'Rollout verifier alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (alarmEmail) {
      topic.addSubscription(new EmailSubscription(alarmEmail));
    }
    return topic;
  }
}
