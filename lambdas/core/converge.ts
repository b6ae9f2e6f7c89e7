import type { Finding, ObservationRef } from './contracts/verdict-event.js';
import { isObservationGap, type Judgement } from './judge/index.js';
import type { Observation } from './observation.js';

export interface ConvergeOptions {
  deadlineMs: number;
  /**
   * First backoff ceiling (full jitter below the ceiling), doubling per look up to maxDelayMs; the
   * wait after a steady look (see `steadyLooks`).
   */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Routes-only looks (`Observation.routesOnly`: the weights seen, completely, still wrong) after
   * which the wait is between half of `initialDelayMs` and all of it, however many looks came
   * before (default 0: the ceiling doubles from the second wait on). Every other look backs off:
   * the ceiling doubles per look, and per look in a row that could not see (throttling, errors).
   */
  steadyLooks?: number;
  /**
   * Least room left for the last observation before the deadline. The room grows to twice the
   * longest observation so far: an attempt started where it cannot finish would end the
   * verification on the verifier's own timing, not on what AWS or the cluster answered.
   */
  finalAttemptMarginMs?: number;
  /**
   * An attempt starting this close to the deadline is told it is the last look (`lastLook`):
   * whatever it reads then is the verdict's evidence. Default: `finalAttemptMarginMs`.
   */
  lastLookWindowMs?: number;
  random?: () => number;
  onAttempt?: (progress: AttemptProgress) => void;
}

export interface AttemptProgress {
  attempt: number;
  judgement: Judgement;
  elapsedMs: number;
  remainingMs: number;
}

export interface Step {
  judgement: Judgement;
  observation?: Observation;
}

/** One observation of a verification and its judgement, numbered and timed. */
export interface AttemptRecord extends Step, ObservationRef {}

export interface Converged {
  /** The verdict's judgement, under the evidence rules (see `settle`). */
  judgement: Judgement;
  /** The observation the verdict's evidence comes from: the last one that saw anything. */
  evidence?: AttemptRecord;
  attempts: number;
  durationMs: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 1_000;
export const DEFAULT_MAX_DELAY_MS = 5_000;

/** What converge tells each attempt. */
export interface AttemptContext {
  /** The deadline is within `lastLookWindowMs`: this look's reading is likely the verdict's evidence. */
  lastLook: boolean;
}

/**
 * Observe and judge until the judgement is Succeeded or final, or the deadline passes.
 * Exponential backoff with full jitter spreads many verifiers over the account's shared ELBv2
 * budget instead of synchronising them. An attempt starts only with room to finish (twice the
 * longest so far); an observation the deadline still cuts short (a call that hangs) is an
 * attempt like any other: it failed, and it is the last word on what the verifier could see.
 */
export async function converge(
  attempt: (signal: AbortSignal, context: AttemptContext) => Promise<Step>,
  options: ConvergeOptions,
): Promise<Converged> {
  const {
    deadlineMs,
    initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
    steadyLooks = 0,
    finalAttemptMarginMs = 250,
    random = Math.random,
    onAttempt,
  } = options;
  const lastLookWindowMs = options.lastLookWindowMs ?? finalAttemptMarginMs;
  const startedAt = Date.now();
  const deadline = startedAt + deadlineMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineMs);

  const history: AttemptRecord[] = [];
  let blindInARow = 0;
  let steadyTaken = 0;
  let backoffLooks = 0;
  let longestAttemptMs = 0;
  try {
    for (;;) {
      const lastLook = deadline - Date.now() <= lastLookWindowMs;
      const attemptStarted = Date.now();
      const step = await guarded(attempt, controller.signal, { lastLook });
      longestAttemptMs = Math.max(longestAttemptMs, Date.now() - attemptStarted);
      blindInARow = step.judgement.complete ? 0 : blindInARow + 1;
      history.push({ ...step, attempt: history.length + 1, observedAt: new Date().toISOString() });
      const remainingMs = deadline - Date.now();
      onAttempt?.({
        attempt: history.length,
        judgement: step.judgement,
        elapsedMs: Date.now() - startedAt,
        remainingMs,
      });
      if (controller.signal.aborted) break;
      if (step.judgement.verdict === 'Succeeded' || step.judgement.final) break;
      const marginMs = Math.max(finalAttemptMarginMs, 2 * longestAttemptMs);
      if (remainingMs <= marginMs) break;
      // A cheap look that saw the routes still wrong is the controller not done yet: look again
      // soon. Anything else (target health, registrations, gaps) changes on the scale of health
      // checks and retries: back off.
      const steady =
        step.observation?.routesOnly === true && step.judgement.complete && steadyTaken < steadyLooks;
      if (steady) steadyTaken++;
      else backoffLooks++;
      const doublings = Math.max(backoffLooks - 1, blindInARow - 1, 0);
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** doublings);
      // Steady looks wait between half the ceiling and all of it ("equal jitter"): N of them cover
      // at least N/2 ceilings, so the window meant for the controller's propagation is not used up
      // early by short draws. Backing off, full jitter spreads verifiers over the shared budget.
      const delay = steady ? initialDelayMs * (0.5 + random() / 2) : random() * ceiling;
      await sleep(Math.min(delay, remainingMs - marginMs));
    }
  } finally {
    clearTimeout(timer);
  }
  return { ...settle(history), attempts: history.length, durationMs: Date.now() - startedAt };
}

/**
 * The verdict of a series of attempts: the last one decides. When it could not see everything,
 * the verdict is Inconclusive, whatever an earlier observation showed — a mismatch seen before
 * the reads started failing may have resolved since. Its findings say why: the last attempt's,
 * then every other gap met since the last complete observation (so throttling that preceded a
 * call the deadline cut short is still named `Throttled`), then the last complete observation's
 * findings as evidence. Findings from earlier attempts carry `earlierObservation`.
 */
export function settle(history: readonly AttemptRecord[]): Pick<Converged, 'judgement' | 'evidence'> {
  // Never empty: converge makes at least one attempt.
  const latest = history[history.length - 1] as AttemptRecord;
  if (latest.judgement.complete) return { judgement: latest.judgement, evidence: latest };

  const lastComplete = history.findLast((record) => record.judgement.complete);
  const failedSince = history.slice(lastComplete ? lastComplete.attempt : 0, -1);
  const named = new Set(latest.judgement.findings.map(gapKey));
  const otherGaps = failedSince.toReversed().flatMap((record) =>
    fromEarlier(record, (finding) => {
      const key = gapKey(finding);
      if (!isObservationGap(finding) || named.has(key)) return false;
      named.add(key);
      return true;
    }),
  );
  return {
    judgement: {
      verdict: 'Inconclusive',
      findings: [
        ...latest.judgement.findings,
        ...otherGaps,
        ...(lastComplete ? fromEarlier(lastComplete, () => true) : []),
      ],
      final: latest.judgement.final,
      complete: false,
    },
    evidence: history.findLast((record) => sawAnything(record.observation)),
  };
}

const gapKey = (finding: Finding) => `${finding.code} ${finding.resource}`;

function fromEarlier(record: AttemptRecord, keep: (finding: Finding) => boolean): Finding[] {
  const earlierObservation: ObservationRef = { attempt: record.attempt, observedAt: record.observedAt };
  return record.judgement.findings.filter(keep).map((finding) => ({ ...finding, earlierObservation }));
}

function sawAnything(observation: Observation | undefined): boolean {
  return observation !== undefined && (observation.routes.length > 0 || observation.backends.length > 0);
}

/** A bug or an unexpected error in one observation is Inconclusive material, never a crash. */
async function guarded(
  attempt: (signal: AbortSignal, context: AttemptContext) => Promise<Step>,
  signal: AbortSignal,
  context: AttemptContext,
): Promise<Step> {
  try {
    return await attempt(signal, context);
  } catch (error) {
    const cutShort = signal.aborted;
    const finding: Finding = {
      code: 'ObservationError',
      resource: 'verifier',
      expected: 'an observation',
      observed: cutShort ? 'deadline' : error instanceof Error ? error.name : 'error',
      message: cutShort
        ? 'the deadline passed while the observation was still in flight'
        : `the observation failed: ${error instanceof Error ? error.message : String(error)}`,
    };
    return { judgement: { verdict: 'Inconclusive', findings: [finding], final: false, complete: false } };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
