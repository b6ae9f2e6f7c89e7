import type { ScenarioOutcome } from './runner.js';

/**
 * What issue 14 requires of a scenario's outcome, as checks that name what is wrong. They never
 * fix a verdict list in advance: how many notifications Argo sends is the real controller's
 * business; what must hold is the rule ("every healthy state is Succeeded, no false abort", or
 * "Failed with this finding, and the callback's abort carried out").
 */

/** Every verdict Succeeded, at least `minimum` of them, and never an abort. */
export function allSucceeded(minimum = 1) {
  return (outcome: ScenarioOutcome): string[] => {
    const problems: string[] = [];
    if (outcome.verdicts.length < minimum)
      problems.push(`expected at least ${minimum} verdict(s), got ${outcome.verdicts.length}`);
    const wrong = outcome.verdicts.filter((verdict) => verdict !== 'Succeeded');
    if (wrong.length > 0) {
      problems.push(
        `a healthy rollout got ${wrong.join(', ')} (findings: ${outcome.findings.join(', ') || 'none'})`,
      );
    }
    if (outcome.clusterActions.includes('aborted')) problems.push('aborted a healthy rollout');
    return problems;
  };
}

/** The first verdict Failed with `code` among the findings, the callback aborted, and what follows Succeeded. */
export function failedThenAborted(code: string) {
  return (outcome: ScenarioOutcome): string[] => {
    const problems: string[] = [];
    const firstFailed = outcome.verdicts.indexOf('Failed');
    if (firstFailed < 0)
      problems.push(`expected a Failed verdict, got ${outcome.verdicts.join(', ') || 'none'}`);
    else if (outcome.verdicts.slice(0, firstFailed).some((verdict) => verdict !== 'Succeeded')) {
      problems.push(`verdicts before the failure were not all Succeeded: ${outcome.verdicts.join(', ')}`);
    }
    if (!outcome.findings.includes(code))
      problems.push(`expected finding ${code}, got ${outcome.findings.join(', ') || 'none'}`);
    if (!outcome.clusterActions.includes('aborted'))
      problems.push(
        `expected the callback to abort, got ${outcome.clusterActions.join(', ') || 'no callback'}`,
      );
    return problems;
  };
}
