import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import type { AttemptProgress } from '../lambdas/core/converge.js';
import { earlierObservationNote } from '../lambdas/core/earlier-evidence.js';
import { formatTable } from './table.js';

const VERDICT_MARK: Record<VerdictEventDetail['verdict'], string> = {
  Succeeded: '✔ Succeeded',
  Failed: '✘ Failed',
  Inconclusive: '? Inconclusive',
};

/** Canary first, as in every expected/observed pair the verifier prints. */
const ROLE_ORDER = ['canary', 'stable', 'unknown'];

function describeExpected(expected: VerdictEventDetail['expected']): string {
  const experiments = (expected.additional ?? []).map((destination) => destination.weight);
  const split = `canary ${expected.canaryWeight} / stable ${expected.stableWeight}${experiments.length > 0 ? ` / experiment ${experiments.join(' + ')}` : ''}`;
  const transition = expected.transition;
  return transition
    ? `${split} (canary ${transition.minCanaryWeight}–${transition.maxCanaryWeight} on the way: ${transition.reason})`
    : split;
}

/** The human report: verdict line, a findings table, then what was observed. */
export function renderVerdict(verdict: VerdictEventDetail): string {
  const lines = [
    `${VERDICT_MARK[verdict.verdict]}  ${verdict.rollout.namespace}/${verdict.rollout.name} step ${verdict.step.index}: expected ${describeExpected(verdict.expected)}`,
    `  ${verdict.attempts} observation(s) in ${(verdict.durationMs / 1000).toFixed(1)}s (deadline ${verdict.deadlineSeconds}s)${verdict.evidence?.region ? `, region ${verdict.evidence.region}` : ''}`,
  ];
  if (verdict.findings.length > 0) {
    lines.push(
      '',
      formatTable(
        ['FINDING', 'RESOURCE', 'EXPECTED', 'OBSERVED'],
        verdict.findings.map((f) => [f.code, f.resource, String(f.expected), String(f.observed)]),
      ),
    );
    lines.push(
      '',
      ...verdict.findings.map((finding) => `  • ${earlierObservationNote(finding)}${finding.message}`),
    );
  }
  if (verdict.evidence && verdict.evidence.routes.length > 0) {
    lines.push('', `Observed${evidenceLabel(verdict.evidence)}:`);
    for (const route of verdict.evidence.routes) {
      const split = [...route.destinations]
        .sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role))
        .map((destination) => `${destination.role} ${destination.weight}`)
        .join(' / ');
      lines.push(`  ${route.description}: ${split}`);
    }
    for (const backend of verdict.evidence.backends) {
      const states = Object.entries(backend.targets)
        .map(([state, count]) => `${count} ${state}`)
        .join(', ');
      lines.push(`  ${backend.role} targets: ${states || 'none registered'}  ${backend.resource}`);
    }
  }
  return lines.join('\n');
}

/** Which observation the evidence is, when the verdict says so. */
function evidenceLabel(evidence: NonNullable<VerdictEventDetail['evidence']>): string {
  if (evidence.attempt === undefined) return '';
  return ` (observation ${evidence.attempt}${evidence.complete === false ? ', incomplete' : ''})`;
}

export function progressLine(progress: AttemptProgress): string {
  const codes = [...new Set(progress.judgement.findings.map((finding) => finding.code))].join(', ');
  const left = Math.max(0, Math.ceil(progress.remainingMs / 1000));
  return `observation ${progress.attempt}: ${progress.judgement.verdict === 'Succeeded' ? 'converged' : `waiting (${codes})`} · ${left}s left`;
}
