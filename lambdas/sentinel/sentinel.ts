import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../contract/event-catalog.js';
import { NO_CLUSTER } from '../../contract/history-table.js';
import { getObject, type KubeApiForCluster } from '../core/cluster/kube-api.js';
import { KubeApiError } from '../core/cluster/kube-errors.js';
import { rolloutPath } from '../core/cluster/paths.js';
import type { DriftEventDetail } from '../core/contracts/drift-event.js';
import type { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import type { VerdictHistory, WatchedRollout } from '../core/history/verdict-history.js';
import { NotificationValidationError, normalizeLiveRollout } from '../core/normalize/index.js';
import type { Routers } from '../core/routers/index.js';
import { unverifiableReason, verifyRollout } from '../core/verify.js';
import { logger, metrics, ROLLOUT_DIMENSION } from '../shared/powertools.js';
import { putEventsReliably } from '../shared/put-events.js';

export interface SentinelDependencies {
  history: Pick<VerdictHistory, 'watched' | 'record' | 'forget'>;
  kubeFor: KubeApiForCluster;
  routers: Routers;
  eventBridge: EventBridgeClient;
  busName: string;
  verify: { deadlineSeconds: number; initialDelayMs?: number; maxDelayMs?: number };
  /** A rollout verified (by anyone) less than this long ago is skipped. */
  intervalMs: number;
  /** How long after completing or aborting a rollout stays watched. */
  watchAfterSettledMs: number;
  /** Milliseconds this run may still spend. */
  timeLeftMs: () => number;
  now?: () => Date;
}

export interface SentinelReport {
  watched: number;
  due: number;
  verified: number;
  drifted: string[];
  skipped: Array<{ rollout: string; reason: string }>;
}

/**
 * One run of the drift sentinel: every rollout on the watch list whose last expected state is known
 * — progressing, or settled (completed, aborted) less than `watchAfterSettledMs` ago — and that
 * nobody verified in the last interval, oldest first, re-verified against the Rollout as the API
 * server holds it now. A Failed verdict after one that was not Failed is drift: the load balancer or
 * the routes no longer carry what the rollout expects. It is published as "Rollout Verification
 * Drift" (with the verdict's findings and evidence), counted (`VerificationDrift`, alarmed) and kept
 * in the history like every verdict. A run stops starting verifications when its time runs short:
 * the rest come first next time.
 */
export async function runSentinel(deps: SentinelDependencies): Promise<SentinelReport> {
  const now = (deps.now ?? (() => new Date()))().getTime();
  const watched = await deps.history.watched();
  const due = watched
    .filter((rollout) => isWatched(rollout, now, deps.watchAfterSettledMs))
    .filter((rollout) => now - Date.parse(rollout.lastVerifiedAt) >= deps.intervalMs)
    .sort((a, b) => a.lastVerifiedAt.localeCompare(b.lastVerifiedAt));
  const report: SentinelReport = {
    watched: watched.length,
    due: due.length,
    verified: 0,
    drifted: [],
    skipped: [],
  };

  for (const rollout of due) {
    const name = `${rollout.namespace}/${rollout.name}`;
    const skip = (reason: string) => {
      report.skipped.push({ rollout: name, reason });
      logger.info('rollout not re-verified', { rollout: name, reason });
    };
    // A verification may take its whole deadline, plus reading the Rollout and recording.
    if (deps.timeLeftMs() < deps.verify.deadlineSeconds * 1000 + 5_000) {
      skip('no time left in this run: first in line next time');
      continue;
    }
    const cluster = rollout.cluster === NO_CLUSTER ? undefined : rollout.cluster;
    let raw: unknown;
    try {
      raw = await getObject(await deps.kubeFor(cluster), rolloutPath(rollout.namespace, rollout.name));
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        await deps.history.forget(rollout);
        skip('the Rollout is gone from its cluster: no longer watched');
      } else skip(`the Rollout could not be read: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    let event: ReturnType<typeof normalizeLiveRollout>;
    try {
      event = normalizeLiveRollout(raw, { receivedAt: new Date(now), ...(cluster ? { cluster } : {}) });
    } catch (error) {
      if (!(error instanceof NotificationValidationError)) throw error;
      skip('the Rollout is not one the verifier can verify');
      continue;
    }
    const unverifiable = unverifiableReason(event, deps.routers);
    if (unverifiable) {
      skip(unverifiable);
      continue;
    }
    const verdict = await verifyRollout(event, deps.routers, {
      deadlineSeconds: deps.verify.deadlineSeconds,
      deadlineCapSeconds: Math.floor((deps.timeLeftMs() - 5_000) / 1000),
      initialDelayMs: deps.verify.initialDelayMs,
      maxDelayMs: deps.verify.maxDelayMs,
    });
    report.verified++;
    metrics.addMetric('VerificationsRechecked', MetricUnit.Count, 1);
    if (verdict.verdict === 'Failed' && rollout.lastVerdict !== 'Failed') {
      await publishDrift(deps, verdict, rollout);
      report.drifted.push(name);
    }
    // After publishing: a drift is never lost to a failed write of the history.
    await deps.history.record(verdict, 'sentinel');
  }
  return report;
}

function isWatched(rollout: WatchedRollout, now: number, watchAfterSettledMs: number): boolean {
  if (rollout.state === 'progressing') return true;
  if (rollout.state === 'settled' && rollout.settledAt)
    return now - Date.parse(rollout.settledAt) < watchAfterSettledMs;
  return false;
}

async function publishDrift(
  deps: SentinelDependencies,
  verdict: VerdictEventDetail,
  previous: WatchedRollout,
) {
  const detail: DriftEventDetail = {
    ...verdict,
    drift: { previousVerdict: previous.lastVerdict, previousVerifiedAt: previous.lastVerifiedAt },
  };
  await putEventsReliably(deps.eventBridge, [
    {
      EventBusName: deps.busName,
      Source: DRIFT_EVENT_SOURCE,
      DetailType: DRIFT_DETAIL_TYPE,
      Detail: JSON.stringify(detail),
      Resources: verdict.evidence?.routes
        .map((route) => route.resource)
        .filter((resource) => resource.startsWith('arn:'))
        .slice(0, 10),
    },
  ]);
  const rollout = `${verdict.rollout.namespace}/${verdict.rollout.name}`;
  metrics.addMetric('VerificationDrift', MetricUnit.Count, 1);
  const single = metrics.singleMetric();
  single.addDimension(ROLLOUT_DIMENSION, rollout);
  single.addMetric('VerificationDrift', MetricUnit.Count, 1);
  logger.warn('drift: the load balancer or the routes no longer match the rollout', {
    rollout,
    previousVerdict: previous.lastVerdict,
    findings: verdict.findings.map((finding) => finding.code),
  });
}
