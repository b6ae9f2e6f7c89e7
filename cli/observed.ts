import type { TrafficObservedEventDetail } from '../lambdas/core/contracts/traffic-observed-event.js';
import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import { createCloudWatch } from '../lambdas/core/traffic/cloudwatch-reader.js';
import { DEFAULT_SERVED_SPLIT_SETTINGS } from '../lambdas/core/traffic/judge-served-split.js';
import { lookWindow, MINUTE_MS } from '../lambdas/core/traffic/look-window.js';
import { DEFAULT_TRAFFIC_LOOK_SETTINGS, lookAtServedTraffic } from '../lambdas/core/traffic/traffic-look.js';
import { parseDurationSeconds } from './duration.js';
import { formatTable } from './table.js';
import { UsageError } from './usage-error.js';

/** `verify --observed [duration]` and its knobs (docs/traffic-observed.md). */
export interface ObservedFlags {
  /** true (the flag alone) or the window as a duration. */
  observed?: string | boolean;
  tolerance?: string;
  minRequests?: string;
  publicationDelay?: string;
  cloudwatchEndpointUrl?: string;
}

export interface ObservedLookSettings {
  windowSeconds: number;
  publicationDelaySeconds: number;
  tolerance: number;
  minRequests: number;
}

/** The flags as settings, or a UsageError naming the bad one; undefined without --observed. */
export function observedSettings(flags: ObservedFlags): ObservedLookSettings | undefined {
  if (flags.observed === undefined || flags.observed === false) {
    for (const [flag, value] of [
      ['--tolerance', flags.tolerance],
      ['--min-requests', flags.minRequests],
      ['--publication-delay', flags.publicationDelay],
      ['--cloudwatch-endpoint-url', flags.cloudwatchEndpointUrl],
    ] as const) {
      if (value !== undefined) throw new UsageError(`${flag} only applies with --observed`);
    }
    return undefined;
  }
  const windowSeconds =
    flags.observed === true
      ? DEFAULT_TRAFFIC_LOOK_SETTINGS.windowSeconds
      : parseDurationSeconds(flags.observed);
  if (windowSeconds === undefined || windowSeconds < 60 || windowSeconds > 24 * 3600) {
    throw new UsageError(
      `--observed: "${String(flags.observed)}" is not a window between 1m and 24h (e.g. 5m)`,
    );
  }
  const delay =
    flags.publicationDelay === undefined
      ? DEFAULT_TRAFFIC_LOOK_SETTINGS.publicationDelaySeconds
      : parseDurationSeconds(flags.publicationDelay);
  if (delay === undefined || delay > 3600) {
    throw new UsageError(
      `--publication-delay: "${flags.publicationDelay}" is not a duration up to 1h (e.g. 3m)`,
    );
  }
  const points =
    flags.tolerance === undefined ? DEFAULT_SERVED_SPLIT_SETTINGS.tolerance * 100 : Number(flags.tolerance);
  if (!Number.isFinite(points) || points <= 0 || points >= 50) {
    throw new UsageError(
      `--tolerance: "${flags.tolerance}" is not a number of share points between 0 and 50 (e.g. 5)`,
    );
  }
  const minRequests =
    flags.minRequests === undefined ? DEFAULT_SERVED_SPLIT_SETTINGS.minRequests : Number(flags.minRequests);
  if (!Number.isInteger(minRequests) || minRequests < 1) {
    throw new UsageError(`--min-requests: "${flags.minRequests}" is not a positive whole number`);
  }
  return { windowSeconds, publicationDelaySeconds: delay, tolerance: points / 100, minRequests };
}

/**
 * The look from a laptop: the last `windowSeconds` of whole minutes CloudWatch has published
 * (ending `publicationDelaySeconds` ago), judged against the weights the verification just found.
 * Unlike the deployed look it cannot know when the weights became right: the window is the
 * operator's claim that the step held them that long.
 */
export async function observeServedTraffic(
  verdict: VerdictEventDetail,
  settings: ObservedLookSettings,
  options: { region?: string; endpoint?: string; now?: () => number },
): Promise<TrafficObservedEventDetail | string> {
  const now = options.now ?? Date.now;
  const end = Math.floor((now() - settings.publicationDelaySeconds * 1000) / MINUTE_MS) * MINUTE_MS;
  const result = await lookAtServedTraffic(
    createCloudWatch({ region: options.region, endpoint: options.endpoint }),
    verdict,
    {
      settings: { tolerance: settings.tolerance, minRequests: settings.minRequests },
      window: lookWindow(end - settings.windowSeconds * 1000, end),
      now,
      region: options.region,
    },
  );
  return result.outcome === 'observed' ? result.detail : result.reason;
}

const MARK: Record<TrafficObservedEventDetail['verdict'], string> = {
  Succeeded: '✔ Succeeded',
  Failed: '✘ Failed',
  Inconclusive: '? Inconclusive',
};

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;

export function renderTrafficObserved(detail: TrafficObservedEventDetail): string {
  const interval = detail.interval
    ? ` (95 % interval ${percent(detail.interval.low)}–${percent(detail.interval.high)})`
    : '';
  const lines = [
    `${MARK[detail.verdict]}  traffic observed ${detail.window.start} – ${detail.window.end}: canary served ${detail.observedShare === undefined ? 'nothing' : percent(detail.observedShare)}${interval}, configured ${percent(detail.configuredShare)} ± ${percent(detail.tolerance)}`,
  ];
  if (detail.sides.length > 0) {
    lines.push(
      '',
      formatTable(
        ['SIDE', 'REQUESTS', '5XX', '5XX RATE', 'LATENCY', 'TARGET GROUP'],
        detail.sides.map((side) => [
          side.role,
          String(side.requests),
          String(side.errors5xx),
          side.errorRate === undefined ? '-' : percent(side.errorRate),
          side.latencySeconds === undefined ? '-' : `${(side.latencySeconds * 1000).toFixed(0)} ms`,
          side.resource,
        ]),
      ),
    );
  }
  if (detail.findings.length > 0)
    lines.push('', ...detail.findings.map((finding) => `  • ${finding.code}: ${finding.message}`));
  return lines.join('\n');
}
