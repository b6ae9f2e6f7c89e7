import type { Expected } from '../contracts/rollout-event.js';
import {
  type Finding,
  type FindingCode,
  UNOBSERVABLE_FINDING_CODES,
  type Verdict,
} from '../contracts/verdict-event.js';
import type { Observation } from '../observation.js';
import { judgeMappingPair } from './ambassador.js';
import { backendWeight, judgeBackends } from './backends.js';
import { judgeMeshBypass, judgeRouteSelection, judgeSubset } from './istio.js';
import { judgeRegistrations } from './registrations.js';
import { judgeSplit } from './split.js';

/**
 * The rules, in one pure function: what the rollout expects against what a router saw. Each rule
 * lives in its own module (split, backends, registrations, istio, ambassador); this one only
 * combines their findings into a verdict. A Failed judgement is provisional (the caller
 * re-observes until its deadline); a `final` one will not change by waiting.
 */
export interface Judgement {
  verdict: Verdict;
  findings: Finding[];
  /** No later observation can change this judgement: stop polling. */
  final: boolean;
}

const UNOBSERVABLE: ReadonlySet<FindingCode> = new Set<FindingCode>(UNOBSERVABLE_FINDING_CODES);

/** Waiting cannot fix these: a missing permission or an unsupported setup stays so for the deadline. */
const FINAL: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'AccessDenied',
  'RolloutMovedOn',
  'UnsupportedTrafficRouting',
]);

/**
 * Findings a full promotion (canary 0 among the successors) explains as well as a never-applied
 * step: Argo deletes the canary Mapping at weight 0, and sidecars then reach stable pods only.
 */
const SPLIT_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'WeightMismatch',
  'CanaryMappingMissing',
  'MeshBypass',
]);

export function judge(expected: Expected, observation: Observation): Judgement {
  const split = judgeSplit(expected, observation.routes);
  const backends = judgeBackends(expected, observation);
  // A state the rollout reaches on its own explains the split only if it can be served: a new
  // revision resets the canary weight to 0 first, so a canary target group still carrying weight
  // without healthy targets is a failure, not a rollout that moved on.
  if (split.movedOn && backends.length === 0) return conclude([...observation.problems, split.movedOn]);
  const findings = [
    ...observation.problems,
    ...split.findings,
    ...backends,
    ...judgeRegistrations(observation, (backend) => backendWeight(observation, backend) > 0),
    ...judgeMeshRouting(expected, observation),
  ];
  if (split.ambiguous && findings.every((finding) => SPLIT_CODES.has(finding.code))) {
    return conclude([...observation.problems, split.ambiguous]);
  }
  return conclude(findings);
}

export function isUnobservable(finding: Finding): boolean {
  return UNOBSERVABLE.has(finding.code);
}

function conclude(findings: Finding[]): Judgement {
  if (findings.length === 0) return { verdict: 'Succeeded', findings, final: true };
  const definite = findings.some((finding) => !isUnobservable(finding));
  return {
    verdict: definite ? 'Failed' : 'Inconclusive',
    findings,
    final: !definite && findings.some((finding) => FINAL.has(finding.code)),
  };
}

function judgeMeshRouting(expected: Expected, observation: Observation): Finding[] {
  return [
    ...(observation.routeSelections ?? []).flatMap(judgeRouteSelection),
    ...(observation.subsets ?? []).flatMap((subset) => judgeSubset(expected, subset)),
    ...(observation.meshBypass ? judgeMeshBypass(expected, observation.meshBypass) : []),
    ...(observation.mappings ?? []).flatMap((pair) => judgeMappingPair(expected, pair)),
  ];
}

export { countStates } from './backends.js';
export { describeState } from './split.js';
