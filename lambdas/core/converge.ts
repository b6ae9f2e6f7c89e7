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

/** Where a verification stands between looks: everything `LookSchedule` needs to go on, as JSON. */
export interface LookState {
  startedAt: number;
  deadline: number;
  attempts: number;
  blindInARow: number;
  steadyTaken: number;
  backoffLooks: number;
  longestAttemptMs: number;
  /**
   * The looks `settle` can still use: the last complete one and every one since, plus the last
   * that saw anything (the evidence). Older looks can no longer change the verdict.
   */
  records: AttemptRecord[];
}

export type NextLook = { done: true } | { done: false; delayMs: number };

/**
 * The schedule of one verification's looks, apart from how the waiting is done: `converge` sleeps
 * in its invocation, the verify function can also send the verification back to its queue with a
 * delay. Its state is plain JSON, so a verification can go on in another invocation.
 */
export class LookSchedule {
  private constructor(
    private readonly options: ConvergeOptions,
    private readonly current: LookState,
  ) {}

  static start(options: ConvergeOptions, now = Date.now()): LookSchedule {
    return new LookSchedule(options, {
      startedAt: now,
      deadline: now + options.deadlineMs,
      attempts: 0,
      blindInARow: 0,
      steadyTaken: 0,
      backoffLooks: 0,
      longestAttemptMs: 0,
      records: [],
    });
  }

  static resume(options: ConvergeOptions, state: LookState): LookSchedule {
    return new LookSchedule(options, structuredClone(state));
  }

  get state(): LookState {
    return this.current;
  }

  get deadline(): number {
    return this.current.deadline;
  }

  private get finalAttemptMarginMs(): number {
    return this.options.finalAttemptMarginMs ?? 250;
  }

  /** Room a look needs before the deadline: twice the longest so far. */
  get marginMs(): number {
    return Math.max(this.finalAttemptMarginMs, 2 * this.current.longestAttemptMs);
  }

  /** This look's reading is likely the verdict's evidence: the deadline is within `lastLookWindowMs`. */
  isLastLook(now = Date.now()): boolean {
    return this.current.deadline - now <= (this.options.lastLookWindowMs ?? this.finalAttemptMarginMs);
  }

  /**
   * Records a look that started at `startedAt` and whether it was cut short, and says whether the
   * verification is decided or when to look next.
   */
  record(step: Step, startedAt: number, cutShort: boolean, now = Date.now()): NextLook {
    const {
      initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
      maxDelayMs = DEFAULT_MAX_DELAY_MS,
      steadyLooks = 0,
      random = Math.random,
    } = this.options;
    const state = this.current;
    state.longestAttemptMs = Math.max(state.longestAttemptMs, now - startedAt);
    state.blindInARow = step.judgement.complete ? 0 : state.blindInARow + 1;
    state.attempts++;
    state.records.push({ ...step, attempt: state.attempts, observedAt: new Date(now).toISOString() });
    state.records = stillUseful(state.records);
    const remainingMs = state.deadline - now;
    this.options.onAttempt?.({
      attempt: state.attempts,
      judgement: step.judgement,
      elapsedMs: now - state.startedAt,
      remainingMs,
    });
    if (cutShort) return { done: true };
    if (step.judgement.verdict === 'Succeeded' || step.judgement.final) return { done: true };
    const marginMs = this.marginMs;
    if (remainingMs <= marginMs) return { done: true };
    // A cheap look that saw the routes still wrong is the controller not done yet: look again
    // soon. Anything else (target health, registrations, gaps) changes on the scale of health
    // checks and retries: back off.
    const steady =
      step.observation?.routesOnly === true && step.judgement.complete && state.steadyTaken < steadyLooks;
    if (steady) state.steadyTaken++;
    else state.backoffLooks++;
    const doublings = Math.max(state.backoffLooks - 1, state.blindInARow - 1, 0);
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** doublings);
    // Steady looks wait between half the ceiling and all of it ("equal jitter"): N of them cover
    // at least N/2 ceilings, so the window meant for the controller's propagation is not used up
    // early by short draws. Backing off, full jitter spreads verifiers over the shared budget.
    const delay = steady ? initialDelayMs * (0.5 + random() / 2) : random() * ceiling;
    return { done: false, delayMs: Math.max(0, Math.min(delay, remainingMs - marginMs)) };
  }

  /** The verdict's judgement and evidence so far (see `settle`). */
  result(now = Date.now()): Converged {
    return {
      ...settle(this.current.records),
      attempts: this.current.attempts,
      durationMs: now - this.current.startedAt,
    };
  }
}

/**
 * The last complete look and every one since, and the last look that saw anything. Of the looks in
 * between, only the findings can still matter (`settle` names their gaps): their observations are
 * dropped, so a verification's state stays small whatever the number of looks.
 */
function stillUseful(records: AttemptRecord[]): AttemptRecord[] {
  const lastComplete = records.findLast((record) => record.judgement.complete);
  const evidence = records.findLast((record) => sawAnything(record.observation));
  const latest = records[records.length - 1];
  const from = lastComplete?.attempt ?? 0;
  return records
    .filter((record) => record.attempt >= from || record === evidence)
    .map((record) =>
      record === latest || record === lastComplete || record === evidence || !record.observation
        ? record
        : { attempt: record.attempt, observedAt: record.observedAt, judgement: record.judgement },
    );
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
  const schedule = LookSchedule.start(options);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.deadlineMs);
  try {
    for (;;) {
      const lastLook = schedule.isLastLook();
      const attemptStarted = Date.now();
      const step = await guardedAttempt(attempt, controller.signal, { lastLook });
      const next = schedule.record(step, attemptStarted, controller.signal.aborted);
      if (next.done) break;
      await sleep(next.delayMs);
    }
  } finally {
    clearTimeout(timer);
  }
  return schedule.result();
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
  const failedSince = history.filter(
    (record) => record.attempt > (lastComplete?.attempt ?? 0) && record !== latest,
  );
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
export async function guardedAttempt(
  attempt: (signal: AbortSignal, context: AttemptContext) => Promise<Step>,
  signal: AbortSignal,
  context: AttemptContext,
): Promise<Step> {
  try {
    // Raced with the signal: a look stuck where the signal does not reach (waiting for the Describe
    // budget's next token) must not hold the verification, or the invocation, past its time. A look
    // the signal does reach answers for itself (a call cut short while being throttled is Throttled).
    return await Promise.race([attempt(signal, context), abortedAndUnanswered(signal)]);
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

/** How long a look may take to answer for itself once its signal aborted. */
const ABORT_GRACE_MS = 200;

function abortedAndUnanswered(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const abort = () => setTimeout(() => reject(signal.reason), ABORT_GRACE_MS);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
