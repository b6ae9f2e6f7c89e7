import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  EVENT_BUS_NAME,
  STATE_TABLE_NAME,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_PUBLISH_RESERVE_MS,
} from '../contract/environment.js';
import { ROLLOUT_EVENT_PATTERN } from '../contract/event-catalog.js';
import { clusterEnvironment, grantClusterSecrets } from './cluster-access.js';
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

export interface VerifyProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
  readonly table: StateTable;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/** Rollout event → observe the ALB until it matches or the deadline passes → verdict event + metrics. */
export class Verify extends Construct {
  readonly fn: VerifierFunction;

  constructor(scope: Construct, id: string, props: VerifyProps) {
    super(scope, id);
    const { settings } = props;
    this.fn = new VerifierFunction(this, 'Verify', {
      code: settings.verifyCode,
      description: 'Verifies an Argo Rollouts step against the real ALB state and publishes the verdict',
      memorySize: 256,
      // Deadline + publish reserve + headroom: the handler caps its own deadline to what is left.
      timeout: Duration.seconds(settings.verifyTimeoutSeconds),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      reservedConcurrentExecutions: settings.verifyReservedConcurrency,
      // An event older than this describes a rollout state that has long moved on.
      maxEventAge: Duration.hours(1),
      retryAttempts: 1,
      environment: {
        [EVENT_BUS_NAME]: props.events.bus.eventBusName,
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

    props.events.route(
      'RolloutEvents',
      ROLLOUT_EVENT_PATTERN,
      this.fn.function,
      'Rollout events to the verify function',
    );
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
