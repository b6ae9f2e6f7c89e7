import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IWidget,
  MathExpression,
  type Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  TIME_TO_VERDICT_METRIC,
  TRAFFIC_SHARE_METRICS,
  VERDICT_METRIC_NAMES,
  verifierMetric,
} from './metrics.js';
import type { VerifierFunction } from './verifier-function.js';

export const ROLLOUT_DIMENSION = 'Rollout';

/**
 * Rollout names are not known at deploy time: a SEARCH over the `Rollout` dimension draws one line
 * per Rollout that reported the metric in the dashboard's time range.
 */
export function perRolloutSearch(
  serviceName: string,
  metricName: string,
  statistic: string,
  period: Duration,
) {
  const query = `{${METRICS_NAMESPACE},${ROLLOUT_DIMENSION},service} MetricName="${metricName}" service="${serviceName}"`;
  return new MathExpression({
    expression: `SEARCH('${query}', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}

export interface OperationsDashboardProps {
  readonly serviceName: string;
  readonly functions: readonly VerifierFunction[];
  /** The verify looks queue: the age of its oldest message, and the verifications waiting for a look. */
  readonly verifyLooks: { readonly oldestAge: Metric; readonly waiting: Metric };
  readonly alarms: readonly Alarm[];
  /**
   * Add the traffic look's row: served vs configured canary share and each side's 5xx rate, per Rollout.
   * @default false
   */
  readonly trafficLookEnabled?: boolean;
}

export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const metric = (name: string, statistic: string, label?: string) =>
      verifierMetric(props.serviceName, name, { statistic, period, label: label ?? name });
    const verdicts = Object.values(VERDICT_METRIC_NAMES).map((name) =>
      metric(name, Stats.SUM, name.replace(/^Verification/, '')),
    );

    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            '# Rollout verifier\nVerdicts of Argo Rollouts steps checked against the real ALB state. ' +
            'Per-Rollout graphs show one line per `namespace/name`.',
          width: 24,
          height: 2,
        }),
      ],
      [
        new GraphWidget({ title: 'Verdicts', left: verdicts, stacked: true, width: 12 }),
        new GraphWidget({
          title: 'Time to verdict (ms)',
          left: [
            metric(TIME_TO_VERDICT_METRIC, Stats.p(50), 'p50'),
            metric(TIME_TO_VERDICT_METRIC, Stats.p(99), 'p99'),
          ],
          width: 6,
        }),
        new GraphWidget({
          title: 'ELB API calls',
          left: [metric('ElbApiCalls', Stats.SUM, 'calls')],
          right: [metric('InvalidRolloutEvents', Stats.SUM, 'invalid events')],
          width: 6,
        }),
      ],
      [
        new GraphWidget({
          title: 'Weight drift per Rollout (max)',
          left: [perRolloutSearch(props.serviceName, 'WeightDrift', 'Maximum', period)],
          width: 12,
        }),
        new GraphWidget({
          title: 'Unhealthy canary targets per Rollout (max)',
          left: [perRolloutSearch(props.serviceName, 'UnhealthyCanaryTargets', 'Maximum', period)],
          width: 12,
        }),
      ],
      [
        new GraphWidget({
          title: 'Failed verdicts per Rollout',
          left: [perRolloutSearch(props.serviceName, VERDICT_METRIC_NAMES.failed, 'Sum', period)],
          width: 12,
        }),
        new GraphWidget({
          title: 'Function errors and throttles',
          left: props.functions.map((fn) =>
            fn.function.metricErrors({ period, label: `${fn.node.id} errors`, statistic: Stats.SUM }),
          ),
          right: props.functions.map((fn) =>
            fn.function.metricThrottles({ period, label: `${fn.node.id} throttles`, statistic: Stats.SUM }),
          ),
          width: 12,
        }),
      ],
      [
        new GraphWidget({
          title: 'Verify looks queue',
          left: [props.verifyLooks.oldestAge.with({ label: 'oldest message age (s)' })],
          right: [props.verifyLooks.waiting.with({ label: 'verifications waiting' })],
          width: 24,
        }),
      ],
      ...(props.trafficLookEnabled ? [trafficRow(props.serviceName, period)] : []),
      [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 6 })],
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', { widgets: rows, defaultInterval: Duration.hours(6) });
  }
}

/**
 * The traffic look per Rollout (docs/traffic-observed.md): the canary share the ALB served beside
 * the share its weights configure, and the canary's and the stable side's 5xx rates, in percent.
 */
function trafficRow(serviceName: string, period: Duration): IWidget[] {
  const search = (name: string) => perRolloutSearch(serviceName, name, 'Average', period);
  return [
    new GraphWidget({
      title: 'Canary share per Rollout (%): served vs configured',
      left: [search(TRAFFIC_SHARE_METRICS.served), search(TRAFFIC_SHARE_METRICS.configured)],
      leftYAxis: { min: 0, max: 100 },
      width: 12,
    }),
    new GraphWidget({
      title: '5xx rate per Rollout (%): canary vs stable',
      left: [search(TRAFFIC_SHARE_METRICS.canary5xx), search(TRAFFIC_SHARE_METRICS.stable5xx)],
      leftYAxis: { min: 0 },
      width: 12,
    }),
  ];
}
