/**
 * CloudWatch Embedded Metric Format records, caught where Powertools Metrics prints them. With
 * POWERTOOLS_DEV set, Metrics writes through the global `console` (instead of its own Console on
 * stdout), so wrapping `console.log` for the world's lifetime collects every record — in Lambda,
 * CloudWatch Logs would extract the same JSON lines into metrics. Other output passes through.
 */

export interface EmfRecord {
  atMs: number;
  /** The record's own timestamp (`_aws.Timestamp`, epoch ms): the minute CloudWatch files it under. */
  timestamp: number;
  namespace: string;
  /** The dimension values of the record, e.g. `{ service: 'rollout-verifier', Rollout: 'shop/cart' }`. */
  dimensions: Record<string, string>;
  /** Metric name → sum of the values in the record. */
  values: Record<string, number>;
}

interface EmfLine {
  _aws?: {
    Timestamp?: number;
    CloudWatchMetrics?: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string }>;
    }>;
  };
  [key: string]: unknown;
}

export function startEmfCapture(): { records: EmfRecord[]; stop(): void } {
  const records: EmfRecord[] = [];
  const { log, warn } = console;
  const startedAt = Date.now();
  const capture = (text: unknown): boolean => {
    if (typeof text !== 'string' || !text.startsWith('{"_aws"')) return false;
    let line: EmfLine;
    try {
      line = JSON.parse(text) as EmfLine;
    } catch {
      return false;
    }
    for (const directive of line._aws?.CloudWatchMetrics ?? []) {
      const dimensions: Record<string, string> = {};
      for (const name of directive.Dimensions.flat()) dimensions[name] = String(line[name]);
      const values: Record<string, number> = {};
      for (const { Name } of directive.Metrics) {
        const value = line[Name];
        values[Name] = Array.isArray(value)
          ? value.reduce((sum: number, item) => sum + Number(item), 0)
          : Number(value);
      }
      records.push({
        atMs: Date.now() - startedAt,
        timestamp: line._aws?.Timestamp ?? Date.now(),
        namespace: directive.Namespace,
        dimensions,
        values,
      });
    }
    return true;
  };
  console.log = (...args: unknown[]) => {
    if (args.length === 1 && capture(args[0])) return;
    log.apply(console, args);
  };
  console.warn = (...args: unknown[]) => {
    // Several handlers share one Metrics object in this process: one may flush what another
    // added, and the other then finds nothing to publish. In Lambda each has its own.
    if (typeof args[0] === 'string' && args[0].startsWith('No application metrics to publish')) return;
    warn.apply(console, args);
  };
  return {
    records,
    stop() {
      console.log = log;
      console.warn = warn;
    },
  };
}

/** Sums of the service-wide metrics (dimension `service` only, what the alarms watch) in `records`. */
export function serviceTotals(records: readonly EmfRecord[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const record of records) {
    const names = Object.keys(record.dimensions);
    if (names.length !== 1 || names[0] !== 'service') continue;
    for (const [name, value] of Object.entries(record.values)) totals[name] = (totals[name] ?? 0) + value;
  }
  return totals;
}
