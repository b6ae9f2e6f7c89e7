import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Alarms } from './alarms.js';
import { Callback } from './callback.js';
import { ClusterAccess } from './cluster-access.js';
import { OperationsDashboard } from './dashboard.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { VerifierEvents } from './events.js';
import { Ingest } from './ingest.js';
import { allowCloudWatchLogs } from './log-groups.js';
import { type ResolvedSettings, type RolloutVerifierProps, resolveSettings } from './settings.js';
import { StateTable } from './state-table.js';
import { VerifierFunction } from './verifier-function.js';
import { Verify } from './verify.js';

/**
 * Everything the verifier needs in one account/region: bus and rules, the verify function (and
 * the ingest and callback functions once their handlers exist), dead-letter queues, the state
 * table, least-privilege roles, EKS access entries, alarms on an SNS topic and a dashboard.
 */
export class RolloutVerifier extends Construct {
  readonly settings: ResolvedSettings;
  readonly bus: IEventBus;
  readonly table: ITable;
  readonly verify: Verify;
  readonly ingest?: Ingest;
  readonly callback?: Callback;
  readonly alarms: Alarms;
  readonly alarmTopic: ITopic;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: RolloutVerifierProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    this.settings = settings;
    if (settings.logs.encryptionKey) allowCloudWatchLogs(settings.logs.encryptionKey);
    const network = {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
    };

    const events = new VerifierEvents(this, 'Events', {
      busName: settings.busName,
      createBus: settings.createBus,
    });
    this.bus = events.bus;
    const state = new StateTable(this, 'State', { encryptionKey: props.tableEncryptionKey });
    this.table = state.table;

    this.verify = new Verify(this, 'Verify', { settings, events, table: state, network });
    if (settings.ingest.enabled) {
      this.ingest = new Ingest(this, 'Ingest', { settings, events });
    }
    if (settings.callback.enabled) {
      this.callback = new Callback(this, 'Callback', { settings, events, table: state, network });
    }

    if (settings.clusterNames.length > 0) {
      // Verify: the read-only group (deploy/cluster/clusterroles.yaml, rollout-verifier-observer).
      new ClusterAccess(this, 'VerifyClusterAccess', {
        clusterNames: settings.clusterNames,
        role: this.verify.fn.role,
        kubernetesGroup: settings.kubernetesGroups.verify,
      });
      if (this.callback) {
        // Callback: rollouts get, rollouts/status patch, events create; patch on rollouts only with
        // the promote Component (deploy/cluster/promote).
        new ClusterAccess(this, 'CallbackClusterAccess', {
          clusterNames: settings.clusterNames,
          role: this.callback.fn.role,
          kubernetesGroup: settings.kubernetesGroups.callback,
        });
      }
    }

    const functions = VerifierFunction.all(this);
    this.alarms = new Alarms(this, 'Alarms', {
      serviceName: settings.serviceName,
      alarmEmail: settings.alarmEmail,
      alarmTopic: props.alarmTopic,
      verify: this.verify.fn,
      functions,
      deadLetterQueues: DeadLetterQueue.all(this),
      ingestEnabled: this.ingest !== undefined,
      authenticationFailureAlarmThreshold: settings.ingest.authenticationFailureAlarmThreshold,
      callbackEnabled: this.callback !== undefined,
    });
    this.alarmTopic = this.alarms.topic;
    this.dashboard = new OperationsDashboard(this, 'Dashboard', {
      serviceName: settings.serviceName,
      functions,
      alarms: this.alarms.alarms,
    });
  }
}
