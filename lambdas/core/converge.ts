import type { Finding } from './contracts/verdict-event.js';
import type { Judgement } from './judge/index.js';
import type { Observation } from './observation.js';

export interface ConvergeOptions {
  deadlineMs: number;
  /** First backoff ceiling; doubles per attempt up to maxDelayMs (full jitter below the ceiling). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Room left for the last observation before the deadline. */
  finalAttemptMarginMs?: number;
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

export interface Converged extends Step {
  attempts: number;
  durationMs: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 1_000;
export const DEFAULT_MAX_DELAY_MS = 5_000;

/**
 * Observe and judge until the judgement is Succeeded or final, or the deadline passes; the last
 * complete judgement is the answer. Exponential backoff with full jitter spreads many verifiers
 * over the account's shared ELBv2 budget instead of synchronising them.
 */
export async function converge(
  attempt: (signal: AbortSignal) => Promise<Step>,
  options: ConvergeOptions,
): Promise<Converged> {
  const {
    deadlineMs,
    initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
    finalAttemptMarginMs = 250,
    random = Math.random,
    onAttempt,
  } = options;
  const startedAt = Date.now();
  const deadline = startedAt + deadlineMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineMs);

  let last: Step | undefined;
  let attempts = 0;
  try {
    for (;;) {
      const step = await guarded(attempt, controller.signal);
      // An observation the deadline cut short says nothing new: keep the last complete one.
      if (controller.signal.aborted && last) break;
      attempts++;
      last = step;
      const remainingMs = deadline - Date.now();
      onAttempt?.({
        attempt: attempts,
        judgement: step.judgement,
        elapsedMs: Date.now() - startedAt,
        remainingMs,
      });
      if (step.judgement.verdict === 'Succeeded' || step.judgement.final) break;
      if (remainingMs <= finalAttemptMarginMs) break;
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempts - 1));
      await sleep(Math.min(random() * ceiling, remainingMs - finalAttemptMarginMs));
    }
  } finally {
    clearTimeout(timer);
  }
  return { ...last, attempts, durationMs: Date.now() - startedAt };
}

/** A bug or an unexpected error in one observation is Inconclusive material, never a crash. */
async function guarded(attempt: (signal: AbortSignal) => Promise<Step>, signal: AbortSignal): Promise<Step> {
  try {
    return await attempt(signal);
  } catch (error) {
    const finding: Finding = {
      code: 'ObservationError',
      resource: 'verifier',
      expected: 'an observation',
      observed: error instanceof Error ? error.name : 'error',
      message: `the observation failed: ${error instanceof Error ? error.message : String(error)}`,
    };
    return { judgement: { verdict: 'Inconclusive', findings: [finding], final: false } };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
