import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import {
  DRIFT_DESCRIBE_SHARE,
  DRIFT_INTERVAL_SECONDS,
  DRIFT_WATCH_AFTER_SETTLED_SECONDS,
  EVENT_BUS_NAME,
  VERIFY_DEADLINE_SECONDS,
} from '../contract/environment.js';
import { clusterEnvironment, grantClusterSecrets } from './cluster-access.js';
import type { VerifierEvents } from './events.js';
import type { HandlerCode } from './handler-code.js';
import type { VerdictHistory } from './history.js';
import type { ResolvedSettings } from './settings.js';
import { VerifierFunction, type VerifierFunctionProps } from './verifier-function.js';
import { ELB_DESCRIBE_ACTIONS, grantPutEvents } from './verify.js';

export interface DriftSentinelProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
  readonly history: VerdictHistory;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * The drift sentinel: an EventBridge Scheduler schedule running a function that re-verifies the
 * rollouts of the history's watch list and publishes "Rollout Verification Drift" when the load
 * balancer or the routes no longer match (lambdas/sentinel). Its ELBv2 calls are paced to a share
 * of the account's Describe budget. Cluster access is granted by the caller (the observer group).
 */
export class DriftSentinel extends Construct {
  readonly fn: VerifierFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: DriftSentinelProps) {
    super(scope, id);
    const { settings, history } = props;
    const { sentinel } = settings;
    this.fn = new VerifierFunction(this, 'Sentinel', {
      code: sentinel.code as HandlerCode,
      description: 'Drift sentinel: re-verifies watched rollouts and publishes drift',
      memorySize: 256,
      // Several verifications in a row, each up to the deadline; the next run takes the rest.
      timeout: Duration.minutes(Math.min(5, sentinel.intervalMinutes)),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      // One run at a time: a second one would spend the Describe share twice.
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      environment: {
        ...history.environment(),
        [EVENT_BUS_NAME]: props.events.bus.eventBusName,
        [VERIFY_DEADLINE_SECONDS]: String(settings.deadlineSeconds),
        [DRIFT_INTERVAL_SECONDS]: String(sentinel.intervalMinutes * 60),
        [DRIFT_WATCH_AFTER_SETTLED_SECONDS]: String(sentinel.watchAfterSettledSeconds),
        [DRIFT_DESCRIBE_SHARE]: String(sentinel.describeShare),
        ...clusterEnvironment(this, settings),
      },
      ...props.network,
    });
    grantClusterSecrets(this.fn.role, settings.clusterSecrets);
    history.grantReadHistory(this.fn.role);
    history.grantRecord(this.fn.role);
    grantPutEvents(this.fn, props.events.bus);
    this.fn.addUnscopedStatement(
      new PolicyStatement({ sid: 'ReadLoadBalancers', actions: ELB_DESCRIBE_ACTIONS, resources: ['*'] }),
    );
    // The schedule's own role (not the stack-wide one CDK would share between targets): it may invoke
    // this function, for schedules of this account only.
    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets the drift sentinel schedule invoke the sentinel function',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      schedule: ScheduleExpression.rate(Duration.minutes(sentinel.intervalMinutes)),
      target: new LambdaInvoke(this.fn.function, {
        role: scheduleRole,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
      description: 'Runs the rollout-verifier drift sentinel',
    });
    const functionId = Stack.of(this).getLogicalId(this.fn.function.node.defaultChild as CfnFunction);
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on the sentinel function and its versions (`<arn>:*`), as grantInvoke writes it: ' +
        'the one function this role exists to invoke.',
    });
  }
}
