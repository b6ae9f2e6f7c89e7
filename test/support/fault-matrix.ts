import { setTimeout as sleep } from 'node:timers/promises';
import type { FindingCode, VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { isObservationGap } from '../../lambdas/core/judge/index.js';
import type { FaultProxy } from './fault-proxy.js';

/**
 * What the fault matrices (ELBv2, Kubernetes) share: the moments a fault starts, how a case that the
 * machine starved of time is told apart from a wrong verdict, and how the first cases are spread.
 */

export const TIMINGS = ['before the first look', 'after a lagging first look', 'after convergence'] as const;
export type Timing = (typeof TIMINGS)[number];

export interface FaultOutcome {
  verdict: VerdictEventDetail;
  proxy: FaultProxy;
}

/**
 * Why a run says nothing about the fault: the machine (shared, two cores) stalled it so long that
 * the faulted look never happened or its answer came after the deadline. Timing, not verdicts,
 * decides this, so such a run is repeated rather than judged.
 */
export function starvation(
  { verdict, proxy }: FaultOutcome,
  expected: FindingCode,
  timing: Timing,
): string | undefined {
  if (!proxy.requests.some((request) => request.fault !== undefined)) {
    return `the fault was never reached before the deadline (${proxy.requests.length} requests)`;
  }
  const earlierEvidence = verdict.findings.some(
    (finding) => finding.earlierObservation !== undefined && !isObservationGap(finding),
  );
  if (timing !== 'before the first look' && !earlierEvidence) {
    return 'the first look did not complete before the fault was armed';
  }
  const gaps = verdict.findings.filter(isObservationGap);
  if (!gaps.some((gap) => gap.code === expected) && gaps.every((gap) => gap.observed === 'deadline')) {
    return 'the faulted answer arrived after the deadline';
  }
  return undefined;
}

/**
 * Deadlines of a case's runs: two seconds leave a first look room to finish while dozens of cases
 * share the CPU; a starved run is repeated with twice the time (the shared machine may be busy).
 */
export const DEADLINES_SECONDS = [2, 4, 8] as const;
export const FIRST_DEADLINE_SECONDS = DEADLINES_SECONDS[0];
/** Room for every run of a case, and its staggered start. */
export const CASE_TIMEOUT_MS = 20_000 + DEADLINES_SECONDS.reduce((sum, seconds) => sum + seconds * 1000, 0);

/** Runs a case until it is not starved, with a longer deadline each time; `starved` says why when it always was. */
export async function runUnstarved(
  run: (deadlineSeconds: number) => Promise<FaultOutcome>,
  expected: FindingCode,
  timing: Timing,
): Promise<FaultOutcome & { starved?: string }> {
  let outcome: FaultOutcome | undefined;
  const reasons: string[] = [];
  for (const deadlineSeconds of DEADLINES_SECONDS) {
    outcome = await run(deadlineSeconds);
    const starved = starvation(outcome, expected, timing);
    if (!starved) return outcome;
    reasons.push(`${deadlineSeconds} s: ${starved}`);
  }
  return { ...(outcome as FaultOutcome), starved: reasons.join('; ') };
}

/**
 * The first `concurrency` cases of a concurrent describe would all start, and look, at once; spread
 * them over one deadline (later ones start as others end).
 */
export async function staggeredStart(index: number, concurrency: number, deadlineMs: number): Promise<void> {
  if (index < concurrency) await sleep((index * deadlineMs) / concurrency);
}
