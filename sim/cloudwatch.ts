import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';
import { verifyJsonProtocolRequest } from './sigv4-verify.js';

/**
 * CloudWatch on 127.0.0.1, for the real `@aws-sdk/client-cloudwatch`. Since 3.11xx the client
 * speaks AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`,
 * `application/x-amz-json-1.0`, timestamps as epoch seconds) with awsQueryCompatible errors
 * (`__type` plus the `x-amzn-query-error: <Code>;<Sender|Receiver>` header): this is what it
 * answers. GetMetricData (MetricStat queries; Sum, Average, SampleCount, Minimum, Maximum; any
 * period that is a multiple of 60) and PutMetricData (Value/Values+Counts/StatisticValues) over an
 * in-memory store of per-second statistic sets; a datapoint appears in answers only
 * `publicationDelayMs` after its timestamp, as ALB metrics appear a minute or more late.
 */

export interface Dimension {
  Name: string;
  Value: string;
}

export interface StatisticSet {
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
}

export interface CloudWatchCall {
  operation: string;
  status: number;
  /** GetMetricData: how many metric queries the call carried. */
  queries?: number;
  error?: string;
}

export interface CloudWatchSimOptions {
  /** Simulated clock (ms). Default Date.now. */
  now?: () => number;
  /** A datapoint is invisible until its timestamp + this delay. Default 0. */
  publicationDelayMs?: number;
  /** Access key → secret: requests must be SigV4-signed by one of them. Absent: not checked. */
  credentials?: Record<string, string>;
  /** Operations answered with AccessDenied (403). */
  deniedActions?: readonly string[];
}

export interface CloudWatchSim {
  endpoint: string;
  readonly calls: readonly CloudWatchCall[];
  /** Records one statistic set (e.g. a minute of an ALB metric) in-process, as the service would. */
  put(
    metric: { namespace: string; metricName: string; dimensions: readonly Dimension[] },
    at: number,
    set: StatisticSet,
  ): void;
  /** Forgets every datapoint (the demo serves each step on its own). */
  clear(): void;
  denyAction(operation: string): void;
  /** The next `times` calls of an operation fail with this error code (default: 400, Sender). */
  injectError(
    operation: string,
    error: { code: string; message?: string; status?: number; times?: number },
  ): void;
  close(): Promise<void>;
}

class CloudWatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const STATISTICS = new Set(['Sum', 'Average', 'SampleCount', 'Minimum', 'Maximum']);
const MAX_QUERIES = 500;

export async function startCloudWatchSim(options: CloudWatchSimOptions = {}): Promise<CloudWatchSim> {
  const now = options.now ?? Date.now;
  const delay = options.publicationDelayMs ?? 0;
  const denied = new Set(options.deniedActions ?? []);
  const injected = new Map<string, { code: string; message?: string; status?: number; times?: number }>();
  const calls: CloudWatchCall[] = [];
  /** metric key → timestamp (ms) → statistic set */
  const store = new Map<string, Map<number, StatisticSet>>();

  const put: CloudWatchSim['put'] = (metric, at, set) => {
    const key = metricKey(metric.namespace, metric.metricName, metric.dimensions);
    const series = store.get(key) ?? new Map<number, StatisticSet>();
    store.set(key, series);
    const timestamp = Math.floor(at / 1000) * 1000;
    const existing = series.get(timestamp);
    series.set(timestamp, existing ? merge(existing, set) : { ...set });
  };

  const operations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    GetMetricData(input) {
      const queries = array(input.MetricDataQueries, 'MetricDataQueries');
      if (queries.length === 0 || queries.length > MAX_QUERIES) {
        throw new CloudWatchError(
          'InvalidParameterValue',
          `MetricDataQueries must hold 1 to ${MAX_QUERIES} queries`,
        );
      }
      const start = epochMs(input.StartTime, 'StartTime');
      const end = epochMs(input.EndTime, 'EndTime');
      if (!(start < end))
        throw new CloudWatchError(
          'InvalidParameterValue',
          'The parameter StartTime must be less than the parameter EndTime.',
        );
      const ascending = input.ScanBy === 'TimestampAscending';
      const visibleUntil = now() - delay;
      const results = queries.map((raw) => {
        const query = raw as Record<string, unknown>;
        const id = String(query.Id ?? '');
        if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
          throw new CloudWatchError(
            'InvalidParameterValue',
            `The value ${id} for parameter MetricDataQueries.member.Id is invalid.`,
          );
        }
        const stat = query.MetricStat as Record<string, unknown> | undefined;
        if (!stat)
          throw new CloudWatchError('InvalidParameterValue', 'the simulator answers MetricStat queries only');
        const metric = (stat.Metric ?? {}) as Record<string, unknown>;
        const period = Number(stat.Period);
        const statistic = String(stat.Stat ?? '');
        if (!Number.isInteger(period) || period < 60 || period % 60 !== 0) {
          throw new CloudWatchError(
            'InvalidParameterValue',
            `The parameter Period must be a multiple of 60, got ${String(stat.Period)}`,
          );
        }
        if (!STATISTICS.has(statistic)) {
          throw new CloudWatchError(
            'InvalidParameterValue',
            `the simulator does not compute the statistic ${statistic}`,
          );
        }
        const key = metricKey(
          String(metric.Namespace ?? ''),
          String(metric.MetricName ?? ''),
          (metric.Dimensions ?? []) as Dimension[],
        );
        const buckets = new Map<number, StatisticSet>();
        for (const [timestamp, set] of store.get(key) ?? []) {
          if (timestamp < start || timestamp >= end || timestamp > visibleUntil) continue;
          const bucket = start + Math.floor((timestamp - start) / (period * 1000)) * period * 1000;
          const existing = buckets.get(bucket);
          buckets.set(bucket, existing ? merge(existing, set) : { ...set });
        }
        const ordered = [...buckets].sort(([a], [b]) => (ascending ? a - b : b - a));
        return {
          Id: id,
          Label: String(query.Label ?? metric.MetricName ?? id),
          Timestamps: ordered.map(([timestamp]) => timestamp / 1000),
          Values: ordered.map(([, set]) => value(set, statistic)),
          StatusCode: 'Complete',
        };
      });
      return { MetricDataResults: results, Messages: [] };
    },
    PutMetricData(input) {
      const namespace = String(input.Namespace ?? '');
      for (const raw of array(input.MetricData, 'MetricData')) {
        const datum = raw as Record<string, unknown>;
        const metric = {
          namespace,
          metricName: String(datum.MetricName ?? ''),
          dimensions: (datum.Dimensions ?? []) as Dimension[],
        };
        const at = datum.Timestamp === undefined ? now() : epochMs(datum.Timestamp, 'Timestamp');
        const stats = datum.StatisticValues as Record<string, number> | undefined;
        if (stats) {
          put(metric, at, {
            sampleCount: stats.SampleCount ?? 0,
            sum: stats.Sum ?? 0,
            minimum: stats.Minimum ?? 0,
            maximum: stats.Maximum ?? 0,
          });
        } else if (Array.isArray(datum.Values)) {
          const counts = (datum.Counts ?? []) as number[];
          (datum.Values as number[]).forEach((v, index) => {
            const count = counts[index] ?? 1;
            put(metric, at, { sampleCount: count, sum: v * count, minimum: v, maximum: v });
          });
        } else {
          const v = Number(datum.Value);
          put(metric, at, { sampleCount: 1, sum: v, minimum: v, maximum: v });
        }
      }
      return {};
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const call: CloudWatchCall = { operation, status: 0 };
    calls.push(call);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `cw-${calls.length}`,
        ...headers,
      });
      response.end(JSON.stringify(payload));
    };
    try {
      if (options.credentials) {
        const check = verifyJsonProtocolRequest(
          request,
          body,
          (key) => options.credentials?.[key],
          'monitoring',
        );
        if (!check.ok) throw new CloudWatchError(check.code, check.message, 403);
      }
      const run = operations[operation];
      if (request.method !== 'POST' || !run) {
        throw new CloudWatchError('InvalidAction', `the CloudWatch simulator does not answer ${target}`);
      }
      if (denied.has(operation)) {
        throw new CloudWatchError(
          'AccessDenied',
          `User: arn:aws:sts::123456789012:assumed-role/simulated is not authorized to perform: cloudwatch:${operation} because no identity-based policy allows the cloudwatch:${operation} action`,
          403,
        );
      }
      const fault = injected.get(operation);
      if (fault) {
        if (fault.times !== undefined && --fault.times <= 0) injected.delete(operation);
        throw new CloudWatchError(fault.code, fault.message ?? fault.code, fault.status ?? 400);
      }
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      if (operation === 'GetMetricData')
        call.queries = Array.isArray(input.MetricDataQueries) ? input.MetricDataQueries.length : 0;
      send(200, run(input));
    } catch (error) {
      const failure =
        error instanceof CloudWatchError
          ? error
          : new CloudWatchError(
              'InternalServiceError',
              error instanceof Error ? error.message : String(error),
              500,
            );
      call.error = failure.code;
      send(
        failure.status,
        { __type: `com.amazonaws.cloudwatch#${failure.code}`, message: failure.message },
        { 'x-amzn-query-error': `${failure.code};${failure.status >= 500 ? 'Receiver' : 'Sender'}` },
      );
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const listener = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${listener.port}`,
    calls,
    put,
    clear: () => store.clear(),
    denyAction: (operation) => denied.add(operation),
    injectError: (operation, error) => injected.set(operation, { ...error }),
    close: () => listener.close(),
  };
}

// ---- ALB helpers: what the load balancer publishes per target group -------------------------------

/** `AWS/ApplicationELB` dimension values: the part of each ARN after `loadbalancer/` and after the last `:`. */
export function albDimensions(loadBalancerArn: string, targetGroupArn: string): Dimension[] {
  return [
    {
      Name: 'LoadBalancer',
      Value: loadBalancerArn.slice(loadBalancerArn.indexOf(':loadbalancer/') + ':loadbalancer/'.length),
    },
    { Name: 'TargetGroup', Value: targetGroupArn.slice(targetGroupArn.lastIndexOf(':') + 1) },
  ];
}

export interface AlbMinute {
  /** Any time within the minute (ms). */
  at: number;
  requests: number;
  errors5xx?: number;
  /** Mean target response time of the minute's requests (seconds). */
  latencySeconds?: number;
}

/**
 * One minute of one target group behind one load balancer, as an ALB publishes it: RequestCount
 * and HTTPCode_Target_5XX_Count only when non-zero (CloudWatch then has no datapoint, not a 0),
 * TargetResponseTime as one sample per request.
 */
export function putAlbMinute(
  sim: Pick<CloudWatchSim, 'put'>,
  loadBalancerArn: string,
  targetGroupArn: string,
  minute: AlbMinute,
): void {
  const dimensions = albDimensions(loadBalancerArn, targetGroupArn);
  const at = Math.floor(minute.at / 60_000) * 60_000;
  const count = (metricName: string, n: number) => {
    if (n > 0)
      sim.put({ namespace: 'AWS/ApplicationELB', metricName, dimensions }, at, {
        sampleCount: 1,
        sum: n,
        minimum: n,
        maximum: n,
      });
  };
  count('RequestCount', minute.requests);
  count('HTTPCode_Target_5XX_Count', minute.errors5xx ?? 0);
  if (minute.requests > 0 && minute.latencySeconds !== undefined) {
    const latency = minute.latencySeconds;
    sim.put({ namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimensions }, at, {
      sampleCount: minute.requests,
      sum: latency * minute.requests,
      minimum: latency,
      maximum: latency,
    });
  }
}

function metricKey(namespace: string, metricName: string, dimensions: readonly Dimension[]): string {
  const sorted = [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return JSON.stringify([namespace, metricName, sorted.map((d) => [d.Name, d.Value])]);
}

function merge(a: StatisticSet, b: StatisticSet): StatisticSet {
  return {
    sampleCount: a.sampleCount + b.sampleCount,
    sum: a.sum + b.sum,
    minimum: Math.min(a.minimum, b.minimum),
    maximum: Math.max(a.maximum, b.maximum),
  };
}

function value(set: StatisticSet, statistic: string): number {
  switch (statistic) {
    case 'Sum':
      return set.sum;
    case 'SampleCount':
      return set.sampleCount;
    case 'Minimum':
      return set.minimum;
    case 'Maximum':
      return set.maximum;
    default:
      return set.sampleCount > 0 ? set.sum / set.sampleCount : 0;
  }
}

function array(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value))
    throw new CloudWatchError('MissingParameter', `The parameter ${name} is required.`);
  return value;
}

/** awsJson timestamps are epoch seconds (a number); ISO strings are accepted as the service does. */
function epochMs(value: unknown, name: string): number {
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new CloudWatchError('MissingParameter', `The parameter ${name} is required.`);
  return ms;
}
