import { setTimeout as wait } from 'node:timers/promises';
import { createObject, getObject, type KubeApi, mergePatch } from '../cluster/kube-api.js';
import { isKubeStatus, KubeApiError } from '../cluster/kube-errors.js';
import { eventsPath, rolloutPath } from '../cluster/paths.js';
import type { VerdictEventDetail } from '../contracts/verdict-event.js';
import { showsOwnChange } from './applied.js';
import { type Decision, decide, type Preconditions } from './decide.js';
import { LiveRollout } from './live-rollout.js';
import { type CallbackPolicy, effectivePolicy } from './policy.js';
import { verdictEvents } from './rollout-events.js';

export type CallbackAction = 'aborted' | 'promoted' | 'none' | 'rollout-gone';

export interface CallbackOutcome {
  action: CallbackAction;
  reason: string;
  /** Events created now; duplicates of an earlier delivery are counted in eventsAlreadyRecorded. */
  eventsCreated: number;
  eventsAlreadyRecorded: number;
  /** Policy annotations that were ignored because of their value. */
  ignoredAnnotations: string[];
}

export interface RespondOptions {
  /** Applied unless a Rollout annotation overrides it. */
  policy: CallbackPolicy;
  /** Who writes the Events, e.g. the function name. */
  instance: string;
  now?: () => Date;
  /** Re-reads after a 409 Conflict (the Rollout changed between GET and PATCH). */
  maxConflicts?: number;
  /**
   * A pause younger than this is not released yet: the controller adds a pause condition from its
   * informer's cache, and one that has not caught up writes it again over a release that came
   * right after it (seen in the lab: a promote within a second of the pause, lost, and the rollout
   * paused for good). Default 2000 ms; waited for once, then the Rollout is read again.
   */
  pauseSettleMs?: number;
  /** How to wait (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/** Failures of the Event writes, raised after the action so a missing `events create` never blocks an abort. */
export class EventWriteError extends Error {
  override readonly name = 'EventWriteError';
}

/**
 * One verdict into the cluster: GET the live Rollout, decide (abort / promote / nothing) against
 * it, write with uid + resourceVersion preconditions so a Rollout that changed in between is
 * re-read rather than overwritten, then record the verdict and the decision as Events.
 */
export async function respondToVerdict(
  api: KubeApi,
  verdict: VerdictEventDetail,
  options: RespondOptions,
): Promise<CallbackOutcome> {
  const { namespace, name } = verdict.rollout;
  const now = options.now ?? (() => new Date());
  const signal = options.signal;
  const maxConflicts = options.maxConflicts ?? 3;
  const pauseSettleMs = options.pauseSettleMs ?? DEFAULT_PAUSE_SETTLE_MS;
  const sleep =
    options.sleep ?? ((ms: number, abort?: AbortSignal) => wait(ms, undefined, { signal: abort }));
  let settled = false;

  let decision: Decision;
  let ignoredAnnotations: string[] = [];
  // A write whose answer was lost, then refused with 409 on retry: it may have landed.
  let landedMaybe: { decision: Decision; decidedOn: LiveRollout } | undefined;
  for (let conflicts = 0; ; conflicts++) {
    const live = await readRollout(api, namespace, name, signal);
    if (!live) return gone(verdict);
    if (landedMaybe && showsOwnChange(landedMaybe.decision, landedMaybe.decidedOn, live)) {
      decision = withNote(landedMaybe.decision, 'the API server applied it; its answer was lost');
      // An abort is one write; a promote may still owe its spec half, conditional on the live object.
      await finishPromote(api, namespace, name, decision, live, signal);
      break;
    }
    const effective = effectivePolicy(options.policy, live);
    ignoredAnnotations = effective.ignored;
    decision = decide(verdict, live, effective.policy);
    const young = decision.action === 'promote' && !settled ? pauseAgeMs(live, now()) : undefined;
    if (young !== undefined && young < pauseSettleMs) {
      settled = true;
      // A start in the future (clock skew) waits the whole settle time, never longer.
      await sleep(Math.min(pauseSettleMs, pauseSettleMs - young), signal);
      conflicts--;
      continue;
    }
    try {
      await act(api, namespace, name, decision, signal);
      break;
    } catch (error) {
      if (isKubeStatus(error, 404)) return gone(verdict);
      if (!isKubeStatus(error, 409) || conflicts >= maxConflicts) throw error;
      landedMaybe = error.afterLostAnswer ? { decision, decidedOn: live } : undefined;
    }
  }

  const events = verdictEvents(verdict, decision, { now: now(), instance: options.instance });
  let eventsCreated = 0;
  let eventsAlreadyRecorded = 0;
  const failures: string[] = [];
  for (const event of events) {
    try {
      await createObject(api, eventsPath(namespace), event, signal);
      eventsCreated++;
    } catch (error) {
      if (isKubeStatus(error, 409)) eventsAlreadyRecorded++;
      else failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (failures.length > 0) {
    throw new EventWriteError(
      `${decisionSummary(decision)}, but ${failures.length} of ${events.length} Event(s) could not be written: ${failures.join('; ')}`,
    );
  }
  return {
    action: decision.action === 'abort' ? 'aborted' : decision.action === 'promote' ? 'promoted' : 'none',
    reason: decision.reason,
    eventsCreated,
    eventsAlreadyRecorded,
    ignoredAnnotations,
  };
}

const DEFAULT_PAUSE_SETTLE_MS = 2_000;

/** How long ago the newest pause condition began; undefined without one that says. */
function pauseAgeMs(live: LiveRollout, now: Date): number | undefined {
  const starts = (live.status?.pauseConditions ?? [])
    .map((condition) => Date.parse(String((condition as { startTime?: unknown }).startTime ?? '')))
    .filter((start) => Number.isFinite(start));
  if (starts.length === 0) return undefined;
  return now.getTime() - Math.max(...starts);
}

async function readRollout(
  api: KubeApi,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<LiveRollout | undefined> {
  let body: unknown;
  try {
    body = await getObject(api, rolloutPath(namespace, name), signal);
  } catch (error) {
    if (isKubeStatus(error, 404)) return undefined;
    throw error;
  }
  const parsed = LiveRollout.safeParse(body);
  if (!parsed.success) {
    throw new KubeApiError({
      status: 200,
      method: 'GET',
      path: rolloutPath(namespace, name),
      message: `the API server returned something that is not a Rollout: ${parsed.error.issues[0]?.message ?? ''}`,
    });
  }
  return parsed.data;
}

async function act(api: KubeApi, namespace: string, name: string, decision: Decision, signal?: AbortSignal) {
  if (decision.action === 'none') return;
  let preconditions: Preconditions = decision.preconditions;
  // Status before spec, as the Argo plugin does.
  if (decision.statusPatch) {
    const patched = await mergePatch<LiveRollout>(
      api,
      rolloutPath(namespace, name, 'status'),
      withPreconditions(decision.statusPatch, preconditions),
      signal,
    );
    // The status write moved the resourceVersion; the spec write must be conditional on that one, not the GET's.
    preconditions = { uid: preconditions.uid, resourceVersion: patched?.metadata?.resourceVersion };
  }
  if (decision.action === 'promote' && decision.specPatch) {
    await unpauseSpec(api, namespace, name, decision.specPatch, preconditions, signal);
  }
}

/**
 * The spec half of a promote, after its status half went through. A conflict here must not send
 * the whole decision round again: with the pause conditions already cleared, the plugin's rules
 * would read "paused, no conditions" as "advance a step". Retry only this patch, as long as the
 * Rollout is the same object and still paused.
 */
async function unpauseSpec(
  api: KubeApi,
  namespace: string,
  name: string,
  specPatch: Record<string, unknown>,
  preconditions: Preconditions,
  signal?: AbortSignal,
): Promise<void> {
  let current = preconditions;
  for (let conflicts = 0; ; conflicts++) {
    try {
      await mergePatch(api, rolloutPath(namespace, name), withPreconditions(specPatch, current), signal);
      return;
    } catch (error) {
      if (!isKubeStatus(error, 409)) throw error;
      if (conflicts >= 3) {
        // Not a 409 any more: the caller must not re-decide the promote from the half-promoted state.
        throw new Error(
          `promote of ${namespace}/${name}: pause conditions cleared, but spec.paused kept conflicting`,
          {
            cause: error,
          },
        );
      }
    }
    const live = await readRollout(api, namespace, name, signal);
    if (!live || live.metadata.uid !== current.uid || !live.spec.paused) return;
    current = { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion };
  }
}

/** After a promote's status half landed unseen: unpause the spec if the decision meant to and it still is paused. */
async function finishPromote(
  api: KubeApi,
  namespace: string,
  name: string,
  decision: Decision,
  live: LiveRollout,
  signal?: AbortSignal,
): Promise<void> {
  if (decision.action !== 'promote' || !decision.specPatch || !live.spec.paused) return;
  const preconditions = { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion };
  await unpauseSpec(api, namespace, name, decision.specPatch, preconditions, signal);
}

function withNote(decision: Decision, note: string): Decision {
  return { ...decision, reason: `${decision.reason} (${note})` };
}

function withPreconditions(
  patch: Record<string, unknown>,
  preconditions: Preconditions,
): Record<string, unknown> {
  return { ...patch, metadata: { uid: preconditions.uid, resourceVersion: preconditions.resourceVersion } };
}

function gone(verdict: VerdictEventDetail): CallbackOutcome {
  return {
    action: 'rollout-gone',
    reason: `Rollout ${verdict.rollout.namespace}/${verdict.rollout.name} no longer exists`,
    eventsCreated: 0,
    eventsAlreadyRecorded: 0,
    ignoredAnnotations: [],
  };
}

function decisionSummary(decision: Decision): string {
  if (decision.action === 'none') return `no action (${decision.reason})`;
  return `${decision.action === 'abort' ? 'aborted' : 'promoted'} (${decision.reason})`;
}
