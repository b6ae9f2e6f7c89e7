import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { TRAFFIC_OBSERVED_KIND } from '../../../contract/event-catalog.js';
import type { TrafficFinding, TrafficObservedEventDetail } from '../contracts/traffic-observed-event.js';
import type { VerdictEventDetail } from '../contracts/verdict-event.js';
import { MalformedResponseError } from '../malformed-response.js';
import { readServedTraffic } from './cloudwatch-reader.js';
import {
  DEFAULT_SERVED_SPLIT_SETTINGS,
  judgeServedSplit,
  type ServedSplitSettings,
} from './judge-served-split.js';
import { configuredCanaryShare, lookTargets } from './look-targets.js';
import { type LookWindow, lookWindow, MINUTE_MS } from './look-window.js';
import { movedOnAt, rolloutProgress } from './moved-on.js';

export interface TrafficLookSettings extends ServedSplitSettings {
  /** How long after the weights were right the window stays open (seconds). */
  windowSeconds: number;
  /** How long after a minute ends CloudWatch is trusted to have published it (seconds). */
  publicationDelaySeconds: number;
}

export const DEFAULT_TRAFFIC_LOOK_SETTINGS: TrafficLookSettings = {
  ...DEFAULT_SERVED_SPLIT_SETTINGS,
  windowSeconds: 300,
  publicationDelaySeconds: 180,
};

export type TrafficLookOutcome =
  | { outcome: 'observed'; detail: TrafficObservedEventDetail; getMetricDataRequests: number }
  | { outcome: 'skipped'; reason: string };

export interface TrafficLookOptions {
  settings?: ServedSplitSettings;
  /** The window; default: from the verdict's decision for `windowSeconds`. */
  window?: LookWindow;
  windowSeconds?: number;
  now?: () => number;
  region?: string;
  signal?: AbortSignal;
  /**
   * Where the verify function's per-Rollout verdict counters are (its metrics namespace and
   * service): read in the same call to cut the window where the rollout moved on. Absent: the
   * window is taken as given (the CLI, where the operator vouches for it).
   */
  verdictCounters?: { namespace: string; service: string };
}

/**
 * The second look at a step the configuration verdict found right: what the ALB served to each
 * target group over the window's whole minutes, judged against the configured share. Faults in
 * reading CloudWatch are Inconclusive findings, never a mismatch.
 */
export async function lookAtServedTraffic(
  client: CloudWatchClient,
  verdict: VerdictEventDetail,
  options: TrafficLookOptions = {},
): Promise<TrafficLookOutcome> {
  if (verdict.verdict !== 'Succeeded')
    return { outcome: 'skipped', reason: `the configuration verdict is ${verdict.verdict}` };
  const targets = lookTargets(verdict);
  if (typeof targets === 'string') return { outcome: 'skipped', reason: targets };
  const configuredShare = configuredCanaryShare(verdict);
  if (configuredShare === undefined)
    return { outcome: 'skipped', reason: 'canary and stable weights are both 0' };

  const now = options.now ?? Date.now;
  const settings = options.settings ?? DEFAULT_TRAFFIC_LOOK_SETTINGS;
  const weightsRightAt = Date.parse(verdict.decidedAt);
  const window =
    options.window ??
    lookWindow(
      weightsRightAt,
      weightsRightAt + (options.windowSeconds ?? DEFAULT_TRAFFIC_LOOK_SETTINGS.windowSeconds) * 1000,
    );
  const base = {
    schemaVersion: 1 as const,
    kind: TRAFFIC_OBSERVED_KIND,
    verdictId: `${verdict.verdictId}/${TRAFFIC_OBSERVED_KIND}`,
    configurationVerdictId: verdict.verdictId,
    eventId: verdict.eventId,
    ...(verdict.cluster ? { cluster: verdict.cluster } : {}),
    rollout: verdict.rollout,
    step: verdict.movedOn?.step ?? verdict.step,
    loadBalancer: targets.loadBalancerArn,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
    } as TrafficObservedEventDetail['window'],
  };

  const counters = options.verdictCounters
    ? {
        ...options.verdictCounters,
        rollout: `${verdict.rollout.namespace}/${verdict.rollout.name}`,
        since: Math.floor(weightsRightAt / MINUTE_MS) * MINUTE_MS,
      }
    : undefined;
  let served: Awaited<ReturnType<typeof readServedTraffic>>;
  try {
    served =
      window.end > window.start
        ? await readServedTraffic(client, targets.pairs, window, { signal: options.signal, counters })
        : {
            canary: { role: 'canary', resource: firstOf(targets.pairs, 'canary'), points: [] },
            stable: { role: 'stable', resource: firstOf(targets.pairs, 'stable'), points: [] },
            requests: 0,
          };
  } catch (error) {
    return {
      outcome: 'observed',
      getMetricDataRequests: 1,
      detail: {
        ...base,
        verdict: 'Inconclusive',
        configuredShare,
        tolerance: settings.tolerance,
        requiredRequests: 0,
        sides: [],
        findings: [findingFromCloudWatchError(error, targets.loadBalancerArn, options.region)],
        decidedAt: new Date(now()).toISOString(),
      },
    };
  }
  const movedOn =
    counters && served.verifiedProgressPerMinute
      ? movedOnAt(served.verifiedProgressPerMinute, counters.since, rolloutProgress(verdict))
      : undefined;
  if (movedOn !== undefined && movedOn < window.end) {
    const end = Math.max(window.start, movedOn);
    const within = <T extends { points: ReadonlyArray<{ at: number }> }>(series: T): T => ({
      ...series,
      points: series.points.filter((point) => point.at < end),
    });
    served = { ...served, canary: within(served.canary), stable: within(served.stable) };
    base.window = {
      ...base.window,
      end: new Date(end).toISOString(),
      movedOnAt: new Date(movedOn).toISOString(),
    };
    if (end === window.start) {
      return {
        outcome: 'observed',
        getMetricDataRequests: served.requests,
        detail: {
          ...base,
          verdict: 'Inconclusive',
          configuredShare,
          tolerance: settings.tolerance,
          requiredRequests: 0,
          sides: [],
          findings: [
            {
              code: 'RolloutMovedOn',
              resource: targets.loadBalancerArn,
              expected: 'a whole minute at this step',
              observed: `moved on in the minute of ${base.window.movedOnAt}`,
              message: `the verifier verified a later state of ${verdict.rollout.namespace}/${verdict.rollout.name} (next step, abort or new revision) before a whole minute of step ${base.step.index} was served: nothing of this split to judge`,
            },
          ],
          decidedAt: new Date(now()).toISOString(),
        },
      };
    }
  }
  const judged = judgeServedSplit(
    { configuredShare, loadBalancer: targets.loadBalancerArn, canary: served.canary, stable: served.stable },
    settings,
  );
  return {
    outcome: 'observed',
    getMetricDataRequests: served.requests,
    detail: { ...base, ...judged, decidedAt: new Date(now()).toISOString() },
  };
}

const firstOf = (pairs: ReadonlyArray<{ role: string; targetGroupArn: string }>, role: string) =>
  pairs.find((pair) => pair.role === role)?.targetGroupArn ?? '';

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'LimitExceeded',
  'LimitExceededException',
  'RequestLimitExceeded',
]);

/** A CloudWatch failure as an Inconclusive finding that tells the operator what to fix. */
export function findingFromCloudWatchError(
  error: unknown,
  resource: string,
  region = 'the region',
): TrafficFinding {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (error instanceof MalformedResponseError) {
    return {
      code: 'MalformedResponse',
      resource,
      expected: 'a well-formed answer',
      observed: error.problem,
      message: `${error.call}: ${error.problem} — not an answer, so nothing is concluded from it`,
    };
  }
  if (ACCESS_DENIED.has(name) || status === 403) {
    return {
      code: 'AccessDenied',
      resource,
      expected: 'allowed: cloudwatch:GetMetricData',
      observed: 'AccessDenied',
      message: `the traffic look's role may not call cloudwatch:GetMetricData in ${region}: grant it (resource "*", the action has no resource-level permissions)`,
      missingPermission: 'cloudwatch:GetMetricData',
    };
  }
  if (THROTTLING.has(name)) {
    return {
      code: 'Throttled',
      resource,
      expected: 'an answer',
      observed: name,
      message: `CloudWatch GetMetricData kept being throttled in ${region}: ${message}`,
    };
  }
  const http = status !== undefined && status >= 500 ? `HTTP ${status} ` : '';
  return {
    code: 'ObservationError',
    resource,
    expected: 'an answer',
    observed: `${http}${name}`,
    message: `CloudWatch GetMetricData failed in ${region}: ${http}${message}`,
  };
}
