import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ON_FAILURE, ON_INCONCLUSIVE, ON_SUCCESS, STATE_TABLE_NAME } from '../contract/environment.js';
import { VERDICT_EVENT_PATTERN } from '../contract/event-catalog.js';
import { clusterEnvironment, grantClusterSecrets } from './cluster-access.js';
import type { VerifierEvents } from './events.js';
import type { HandlerCode } from './handler-code.js';
import type { ResolvedSettings } from './settings.js';
import type { StateTable } from './state-table.js';
import { VerifierFunction, type VerifierFunctionProps } from './verifier-function.js';

export interface CallbackProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
  readonly table: StateTable;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * Verdict → the cluster: a Kubernetes Event on the Rollout, abort on Failed and promote on
 * Succeeded as the ON_FAILURE / ON_SUCCESS policies say. Cluster access is granted by the caller.
 */
export class Callback extends Construct {
  readonly fn: VerifierFunction;

  constructor(scope: Construct, id: string, props: CallbackProps) {
    super(scope, id);
    const { settings } = props;
    this.fn = new VerifierFunction(this, 'Callback', {
      code: settings.callback.code as HandlerCode,
      description: 'Writes verdicts back to the Rollout: event, abort or promote by policy',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      maxEventAge: Duration.hours(1),
      retryAttempts: 2,
      environment: {
        [ON_FAILURE]: settings.onFailure,
        [ON_SUCCESS]: settings.onSuccess,
        [ON_INCONCLUSIVE]: settings.onInconclusive,
        ...clusterEnvironment(this, settings),
        [STATE_TABLE_NAME]: props.table.table.tableName,
      },
      ...props.network,
    });
    grantClusterSecrets(this.fn.role, settings.clusterSecrets);
    // Idempotency (one abort/promote per verdict): its own records of the one table only.
    props.table.grantItems(this.fn.role, 'callback');
    props.events.route(
      'Verdicts',
      VERDICT_EVENT_PATTERN,
      this.fn.function,
      'Verdicts to the callback function',
    );
  }
}
