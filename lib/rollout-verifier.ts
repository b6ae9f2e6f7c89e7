import type { IResource, RemovalPolicy, Resource } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, type IRuleTarget, Rule } from 'aws-cdk-lib/aws-events';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ROLLOUT_EVENT_PATTERN,
  VERDICT_EVENT_SOURCE,
  VERDICTS,
  type VerdictName,
  verdictDetailType,
} from '../contract/event-catalog.js';
import { Alarms } from './alarms.js';
import { Callback } from './callback.js';
import { ClusterAccess } from './cluster-access.js';
import { OperationsDashboard } from './dashboard.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { toEventPattern, VerifierEvents } from './events.js';
import { AnalysisGate } from './gate.js';
import { VerdictHistory } from './history.js';
import { Ingest } from './ingest.js';
import { allowCloudWatchLogs } from './log-groups.js';
import {
  TIME_TO_VERDICT_METRIC,
  TRAFFIC_OBSERVED_METRIC_NAMES,
  VERDICT_METRIC_NAMES,
  verifierMetric,
} from './metrics.js';
import { DriftSentinel } from './sentinel.js';
import { type ResolvedSettings, type RolloutVerifierProps, resolveSettings } from './settings.js';
import { StateTable } from './state-table.js';
import { TrafficLook } from './traffic-look.js';
import { VerifierFunction } from './verifier-function.js';
import { Verify } from './verify.js';

export interface OnVerdictOptions {
  /**
   * Where the verdicts go.
   * @default none: add targets with the returned rule's `addTarget()`
   */
  readonly target?: IRuleTarget;
  /**
   * The verdicts to deliver.
   * @default every verdict: Succeeded, Failed and Inconclusive
   */
  readonly verdicts?: readonly VerdictName[];
  /**
   * The rule's description.
   * @default names the verdicts delivered
   */
  readonly description?: string;
  /**
   * The rule's name.
   * @default a name CloudFormation generates
   */
  readonly ruleName?: string;
}

/** The resources `removalPolicy` applies to: the ones that hold data or secrets. */
const STATEFUL_RESOURCES = [Table, LogGroup, Key, Topic, Queue, Secret] as const;

/**
 * Everything the verifier needs in one account/region: bus and rules, the ingest, verify and
 * callback functions, dead-letter queues, the state table, least-privilege roles, EKS access
 * entries, alarms on an SNS topic and a dashboard. No resource gets a physical name unless a prop
 * gives one, so several verifiers fit in one stack and one account.
 */
export class RolloutVerifier extends Construct {
  readonly settings: ResolvedSettings;
  readonly bus: IEventBus;
  readonly table: ITable;
  readonly verify: Verify;
  readonly ingest?: Ingest;
  readonly callback?: Callback;
  /** The traffic look (docs/traffic-observed.md), unless disabled. */
  readonly trafficLook?: TrafficLook;
  /** The verdict history (table and recorder), unless `history.enabled` is false. */
  readonly history?: VerdictHistory;
  /** The analysis gate for Argo `web` metrics (docs/analysis-gate.md), unless `gate.enabled` is false. */
  readonly gate?: AnalysisGate;
  /** The drift sentinel and its schedule, unless `sentinel.enabled` is false (default: with clusters). */
  readonly sentinel?: DriftSentinel;
  readonly alarms: Alarms;
  readonly alarmTopic: ITopic;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: RolloutVerifierProps = {}) {
    super(scope, id);
    const settings = resolveSettings(this, props);
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
      bus: props.eventBus,
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

    if (settings.trafficLook.enabled) {
      this.trafficLook = new TrafficLook(this, 'TrafficLook', {
        settings,
        look: settings.trafficLook,
        events,
        network,
      });
    }
    if (settings.history.enabled) {
      this.history = new VerdictHistory(this, 'History', {
        settings,
        events,
        encryptionKey: props.tableEncryptionKey,
      });
    }
    if (settings.gate.enabled && this.history && this.ingest) {
      this.gate = new AnalysisGate(this, 'Gate', {
        settings,
        history: this.history,
        ingest: this.ingest,
        network,
      });
    }
    if (settings.sentinel.enabled && this.history) {
      this.sentinel = new DriftSentinel(this, 'Sentinel', {
        settings,
        events,
        history: this.history,
        network,
      });
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
      // The gate and the sentinel read what verify reads (Rollouts, routes, EndpointSlices): the observer group.
      for (const [id, reader] of [
        ['GateClusterAccess', this.gate],
        ['SentinelClusterAccess', this.sentinel],
      ] as const) {
        if (!reader) continue;
        new ClusterAccess(this, id, {
          clusterNames: settings.clusterNames,
          role: reader.fn.role,
          kubernetesGroup: settings.kubernetesGroups.verify,
        });
      }
    }

    const functions = VerifierFunction.all(this);
    this.alarms = new Alarms(this, 'Alarms', {
      serviceName: settings.serviceName,
      alarmEmail: settings.alarmEmail,
      alarmTopic: props.alarmTopic,
      verify: this.verify.fn,
      verifyLooks: {
        oldestAge: this.verify.metricOldestLookAge(),
        deadlineSeconds: settings.deadlineSeconds,
      },
      functions,
      deadLetterQueues: DeadLetterQueue.all(this),
      ingestEnabled: this.ingest !== undefined,
      authenticationFailureAlarmThreshold: settings.ingest.authenticationFailureAlarmThreshold,
      callbackEnabled: this.callback !== undefined,
      trafficLookEnabled: this.trafficLook !== undefined,
      sentinelEnabled: this.sentinel !== undefined,
    });
    this.alarmTopic = this.alarms.topic;
    this.dashboard = new OperationsDashboard(this, 'Dashboard', {
      serviceName: settings.serviceName,
      functions,
      verifyLooks: {
        oldestAge: this.verify.metricOldestLookAge(),
        waiting: this.verify.metricLooksWaiting(),
      },
      alarms: this.alarms.alarms,
      trafficLookEnabled: this.trafficLook !== undefined,
    });
    if (props.removalPolicy !== undefined) this.applyRemovalPolicy(props.removalPolicy);
  }

  /**
   * A metric this verifier's functions emit, by name (README, "Metrics"): the sum over 5 minutes
   * of the aggregate without the per-Rollout dimension, unless `props` say otherwise.
   */
  metric(metricName: string, props?: MetricOptions): Metric {
    return verifierMetric(this.settings.serviceName, metricName, props);
  }

  /** Steps verified as Succeeded. @default sum over 5 minutes */
  metricVerificationsSucceeded(props?: MetricOptions): Metric {
    return this.metric(VERDICT_METRIC_NAMES.succeeded, props);
  }

  /** Steps verified as Failed (the `VerificationFailed` alarm's metric). @default sum over 5 minutes */
  metricVerificationsFailed(props?: MetricOptions): Metric {
    return this.metric(VERDICT_METRIC_NAMES.failed, props);
  }

  /** Steps the verifier could not observe (superseded ones excluded). @default sum over 5 minutes */
  metricVerificationsInconclusive(props?: MetricOptions): Metric {
    return this.metric(VERDICT_METRIC_NAMES.inconclusive, props);
  }

  /** Verifications cut short because the rollout moved on: normal progress. @default sum over 5 minutes */
  metricVerificationsSuperseded(props?: MetricOptions): Metric {
    return this.metric(VERDICT_METRIC_NAMES.superseded, props);
  }

  /**
   * Traffic looks that found the ALB serving a split the weights do not explain (ObservedSplitMismatch;
   * the `TrafficObservedFailed` alarm's metric). @default sum over 5 minutes
   */
  metricTrafficObservedFailed(props?: MetricOptions): Metric {
    return this.metric(TRAFFIC_OBSERVED_METRIC_NAMES.failed, props);
  }

  /** Drift the sentinel caught: a verified rollout whose traffic no longer matches. @default sum over 5 minutes */
  metricVerificationDrift(props?: MetricOptions): Metric {
    return this.metric('VerificationDrift', props);
  }

  /**
   * Age of the oldest message in verify's looks queue, in seconds (the `VerifyLooksStarving` alarm's
   * metric: above the deadline, verifications starve for Lambda slots). @default maximum over 5 minutes
   */
  metricOldestLookAge(props?: MetricOptions): Metric {
    return this.verify.metricOldestLookAge(props);
  }

  /** Verifications waiting for a look in verify's looks queue (delayed ones not counted). @default maximum over 5 minutes */
  metricLooksWaiting(props?: MetricOptions): Metric {
    return this.verify.metricLooksWaiting(props);
  }

  /** Time from the rollout event to the verdict, in milliseconds. @default average over 5 minutes */
  metricTimeToVerdict(props?: MetricOptions): Metric {
    return this.metric(TIME_TO_VERDICT_METRIC, { statistic: 'Average', ...props });
  }

  /**
   * A rule on the verifier's bus delivering its verdict events (detail-type
   * `Rollout Verification <Verdict>`, source `rollout-verifier.verify`; schema in
   * docs/events/verdict-event.schema.json) to `options.target`: a platform team's own consumer.
   */
  onVerdict(id: string, options: OnVerdictOptions = {}): Rule {
    const verdicts = [...new Set(options.verdicts ?? VERDICTS)];
    const unknown = verdicts.filter((verdict) => !VERDICTS.includes(verdict));
    if (verdicts.length === 0 || unknown.length > 0) {
      throw new Error(
        `${this.node.path}: onVerdict("${id}") verdicts must be some of ${VERDICTS.join(', ')}, got ${JSON.stringify(options.verdicts)}`,
      );
    }
    const rule = new Rule(this, id, {
      eventBus: this.bus,
      eventPattern: toEventPattern({
        source: [VERDICT_EVENT_SOURCE],
        'detail-type': verdicts.map(verdictDetailType),
      }),
      description: options.description ?? `Rollout verifier verdicts: ${verdicts.join(', ')}`,
      ...(options.ruleName === undefined ? {} : { ruleName: options.ruleName }),
    });
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  /**
   * Lets `grantee` put rollout events on the verifier's bus, and nothing else: `events:PutEvents`
   * on this bus for the ingest source and the rollout detail-types only (`events:source`,
   * `events:detail-type`). For a publisher of your own in front of the verify function, e.g. a
   * webhook already running in the cluster's account.
   */
  grantPutRolloutEvents(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.bus.eventBusArn],
      conditions: {
        StringEquals: {
          'events:source': [...ROLLOUT_EVENT_PATTERN.source],
          'events:detail-type': [...ROLLOUT_EVENT_PATTERN['detail-type']],
        },
      },
    });
  }

  /** `removalPolicy` on every resource of the verifier that holds data or secrets. */
  private applyRemovalPolicy(policy: RemovalPolicy): void {
    for (const construct of this.node.findAll()) {
      if (STATEFUL_RESOURCES.some((type) => construct instanceof type)) {
        (construct as IResource & Resource).applyRemovalPolicy(policy);
      }
    }
  }
}
