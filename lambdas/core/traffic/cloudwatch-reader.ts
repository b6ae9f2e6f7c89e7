import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { MalformedResponseError } from '../malformed-response.js';
import type { MinutePoint, ServedSeries } from './judge-served-split.js';
import type { TargetGroupOnLoadBalancer } from './look-targets.js';
import { type LookWindow, MINUTE_MS } from './look-window.js';
import { VERIFIED_PROGRESS } from './moved-on.js';

export interface CloudWatchClientOptions {
  region?: string;
  /** Overrides AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH, which the SDK reads itself. */
  endpoint?: string;
  maxAttempts?: number;
}

/** Standard retries (3 attempts): GetMetricData is one call per look, far below its quota. */
export function createCloudWatch(options: CloudWatchClientOptions = {}): CloudWatchClient {
  return new CloudWatchClient({
    region: options.region,
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? 3,
  });
}

const NAMESPACE = 'AWS/ApplicationELB';
/** Metric, statistic and the query id prefix (ids must start with a lowercase letter). */
const METRICS = [
  { name: 'RequestCount', stat: 'Sum', id: 'requests' },
  { name: 'HTTPCode_Target_5XX_Count', stat: 'Sum', id: 'errors' },
  { name: 'TargetResponseTime', stat: 'Average', id: 'latency' },
] as const;

/** The `AWS/ApplicationELB` dimension value of a load balancer ARN: `app/<name>/<id>`. */
export const loadBalancerDimension = (arn: string) =>
  arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
/** The dimension value of a target group ARN: `targetgroup/<name>/<id>`. */
export const targetGroupDimension = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);

export function metricQueries(pairs: readonly TargetGroupOnLoadBalancer[]): MetricDataQuery[] {
  return pairs.flatMap((pair, index) =>
    METRICS.map((metric) => ({
      Id: `${metric.id}${index}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: NAMESPACE,
          MetricName: metric.name,
          Dimensions: [
            { Name: 'LoadBalancer', Value: loadBalancerDimension(pair.loadBalancerArn) },
            { Name: 'TargetGroup', Value: targetGroupDimension(pair.targetGroupArn) },
          ],
        },
        Period: 60,
        Stat: metric.stat,
      },
    })),
  );
}

/**
 * How far the verifier saw the rollout get (VerifiedProgress per Rollout, its Maximum per minute),
 * read in the same call: a minute in which a state ahead of the look's was verified is where the
 * rollout moved on (next step, abort, new revision), and the minutes from then on belong to
 * another split.
 */
export interface VerdictCounters {
  namespace: string;
  service: string;
  /** `namespace/name`, the Rollout dimension. */
  rollout: string;
  /** From this minute (epoch ms, on a minute boundary): the minute of the verdict that started the look. */
  since: number;
}

function verdictCounterQueries(counters: VerdictCounters): MetricDataQuery[] {
  return [
    {
      Id: 'verifiedProgress',
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: counters.namespace,
          MetricName: VERIFIED_PROGRESS,
          Dimensions: [
            { Name: 'Rollout', Value: counters.rollout },
            { Name: 'service', Value: counters.service },
          ],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    },
  ];
}

export interface ServedTraffic {
  canary: ServedSeries;
  stable: ServedSeries;
  /** With `counters`: the largest progress verified for the rollout per minute (epoch ms), from `counters.since`. */
  verifiedProgressPerMinute?: Map<number, number>;
  /** GetMetricData requests made (pages included): 1 unless CloudWatch paginated. */
  requests: number;
}

/**
 * One GetMetricData call for every target group of the rollout over the window's whole minutes,
 * folded into one series per role (a rollout behind several rules or load balancers sums them).
 * A minute without a RequestCount datapoint served no request: ALBs publish no zeros. An answer
 * that leaves out a query, or says its data is partial after the last page, is malformed.
 */
export async function readServedTraffic(
  client: CloudWatchClient,
  pairs: readonly TargetGroupOnLoadBalancer[],
  window: LookWindow,
  options: { signal?: AbortSignal; counters?: VerdictCounters } = {},
): Promise<ServedTraffic> {
  const { signal, counters } = options;
  const queries = [...metricQueries(pairs), ...(counters ? verdictCounterQueries(counters) : [])];
  const startTime = counters ? Math.min(counters.since, window.start) : window.start;
  const values = new Map<string, Map<number, number>>();
  let nextToken: string | undefined;
  let requests = 0;
  do {
    const answer = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(startTime),
        EndTime: new Date(window.end),
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
      }),
      { abortSignal: signal },
    );
    requests++;
    for (const result of answer.MetricDataResults ?? []) {
      if (!result.Id) continue;
      const timestamps = result.Timestamps ?? [];
      const numbers = result.Values ?? [];
      if (timestamps.length !== numbers.length) {
        throw new MalformedResponseError(
          'CloudWatch GetMetricData',
          `${result.Id}: ${timestamps.length} timestamps for ${numbers.length} values`,
        );
      }
      if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
        throw new MalformedResponseError(
          'CloudWatch GetMetricData',
          `${result.Id}: status ${result.StatusCode}`,
        );
      }
      const series = values.get(result.Id) ?? new Map<number, number>();
      values.set(result.Id, series);
      for (const [index, timestamp] of timestamps.entries())
        series.set(timestamp.getTime(), numbers[index] ?? 0);
    }
    nextToken = answer.NextToken;
  } while (nextToken && requests < 20);
  if (nextToken)
    throw new MalformedResponseError('CloudWatch GetMetricData', 'still paginating after 20 pages');
  const missing = queries.filter((query) => !values.has(query.Id ?? ''));
  if (missing.length > 0) {
    throw new MalformedResponseError(
      'CloudWatch GetMetricData',
      `no result for ${missing.map((query) => query.Id).join(', ')}`,
    );
  }

  const series = (role: 'canary' | 'stable'): ServedSeries => {
    const minutes = new Map<
      number,
      { requests: number; errors5xx: number; latencyWeighted: number; latencyRequests: number }
    >();
    pairs.forEach((pair, index) => {
      if (pair.role !== role) return;
      const requestsByMinute = values.get(`requests${index}`) ?? new Map();
      const errorsByMinute = values.get(`errors${index}`) ?? new Map();
      const latencyByMinute = values.get(`latency${index}`) ?? new Map();
      for (let at = window.start; at < window.end; at += MINUTE_MS) {
        const served = requestsByMinute.get(at) ?? 0;
        const minute = minutes.get(at) ?? {
          requests: 0,
          errors5xx: 0,
          latencyWeighted: 0,
          latencyRequests: 0,
        };
        minute.requests += served;
        minute.errors5xx += errorsByMinute.get(at) ?? 0;
        const latency = latencyByMinute.get(at);
        if (latency !== undefined && served > 0) {
          minute.latencyWeighted += latency * served;
          minute.latencyRequests += served;
        }
        minutes.set(at, minute);
      }
    });
    const points: MinutePoint[] = [...minutes].map(([at, minute]) => ({
      at,
      requests: minute.requests,
      errors5xx: minute.errors5xx,
      ...(minute.latencyRequests > 0
        ? { latencySeconds: minute.latencyWeighted / minute.latencyRequests }
        : {}),
    }));
    const first = pairs.find((pair) => pair.role === role);
    return { role, resource: first?.targetGroupArn ?? '', points };
  };
  const verifiedProgressPerMinute = counters
    ? (values.get('verifiedProgress') ?? new Map<number, number>())
    : undefined;
  return {
    canary: series('canary'),
    stable: series('stable'),
    requests,
    ...(verifiedProgressPerMinute ? { verifiedProgressPerMinute } : {}),
  };
}
