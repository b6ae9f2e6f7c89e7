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
import { describeState, judgeSplit } from './split.js';

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
  /**
   * The observation saw everything the verdict needs (no AccessDenied, throttling, timeout,
   * malformed answer…): only a complete observation may end Succeeded or Failed.
   */
  complete: boolean;
  /**
   * The routes did not carry the event's state, but the Rollout (read live) had moved on and they
   * carry what it expects now: verified against that instead.
   */
  movedOn?: { stepIndex: number; expected: Expected };
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
  const current = observation.current;
  if (current && 'supersededBy' in current) {
    return conclude([...observation.problems, supersededFinding(current)], observation);
  }
  if (!current) return judgeState(expected, observation);
  // With the Rollout at hand, what it expects now replaces what the event could foresee (its
  // successors): a promote, an abort or a full promotion since the event is known, and a state the
  // Rollout has not reached is no excuse for the routes.
  const againstEvent = judgeState({ ...expected, successors: [] }, observation);
  if (againstEvent.verdict === 'Succeeded' || !againstEvent.complete) return againstEvent;
  const againstNow = judgeState(current.expected, observation);
  if (againstNow.verdict === 'Succeeded') {
    return sameSplit(current.expected, expected)
      ? againstNow
      : { ...againstNow, movedOn: { stepIndex: current.stepIndex, expected: current.expected } };
  }
  // The routes are already past what the read Rollout expects (it moves on while we look): superseded.
  if (againstNow.findings.length > 0 && againstNow.findings.every((finding) => DECISIONS.has(finding.code))) {
    // Argo writes the routes before it persists the status that explains them: a later read of
    // the Rollout may explain these routes (Succeeded, movedOn). Not final: look again.
    return { ...againstNow, final: false };
  }
  // The Rollout is at a state with another split, and the routes carry neither: that state's own
  // notification starts its own verification, which decides. Failing this one would report a
  // mismatch against a state the Rollout has left (and abort on it).
  if (!sameSplit(current.expected, expected)) {
    // Not final: the load balancer controller lags behind Argo, and the next look may find the
    // routes at what the Rollout expects now (Succeeded, movedOn).
    return {
      ...conclude([...observation.problems, movedOnFinding(current, againstNow)], observation),
      final: false,
    };
  }
  return againstEvent;
}

function movedOnFinding(
  current: { resource: string; stepIndex: number; expected: Expected },
  againstNow: Judgement,
): Finding {
  const codes = [...new Set(againstNow.findings.map((finding) => finding.code))].join(', ');
  return {
    code: 'RolloutMovedOn',
    resource: current.resource,
    expected: 'the state the event describes',
    observed: `step ${current.stepIndex}: ${describeState(current.expected)}`,
    message: `the Rollout moved on to step ${current.stepIndex} (${describeState(current.expected)}) while this step was verified, and the routes carry neither state (${codes || 'no findings'} against the new one): the verification of step ${current.stepIndex} decides`,
  };
}

function judgeState(expected: Expected, observation: Observation): Judgement {
  const split = judgeSplit(expected, observation.routes);
  const backends = judgeBackends(expected, observation);
  // A state the rollout reaches on its own explains the split only if it can be served: a new
  // revision resets the canary weight to 0 first, so a canary target group still carrying weight
  // without healthy targets is a failure, not a rollout that moved on.
  if (split.movedOn && backends.length === 0) {
    return conclude([...observation.problems, split.movedOn], observation);
  }
  const findings = [
    ...observation.problems,
    ...split.findings,
    ...backends,
    ...judgeRegistrations(observation, (backend) => backendWeight(observation, backend) > 0),
    ...judgeMeshRouting(expected, observation),
  ];
  if (split.ambiguous && findings.every((finding) => SPLIT_CODES.has(finding.code))) {
    return conclude([...observation.problems, split.ambiguous], observation);
  }
  return conclude(findings, observation);
}

function supersededFinding(current: { resource: string; supersededBy: string }): Finding {
  return {
    code: 'RolloutMovedOn',
    resource: current.resource,
    expected: 'the revision the event is about',
    observed: current.supersededBy,
    message: `the event no longer describes the Rollout: ${current.supersededBy}`,
  };
}

/** The same split (a different derivation of the same weights needs no second judgement). */
function sameSplit(a: Expected, b: Expected): boolean {
  const experiments = (state: Expected) =>
    (state.additional ?? []).map((destination) => destination.weight).join('+');
  return (
    a.canaryWeight * b.maxWeight === b.canaryWeight * a.maxWeight &&
    a.stableWeight * b.maxWeight === b.stableWeight * a.maxWeight &&
    experiments(a) === experiments(b) &&
    a.transition?.minCanaryWeight === b.transition?.minCanaryWeight &&
    a.transition?.maxCanaryWeight === b.transition?.maxCanaryWeight
  );
}

export function isUnobservable(finding: Finding): boolean {
  return UNOBSERVABLE.has(finding.code);
}

/**
 * Evidence rules (issue 11 §1). Succeeded only on a complete observation that saw at least one
 * route (and, where the router reads target health, the health of every target group carrying
 * weight). Failed only on a complete observation with a definite finding. An observation with
 * any gap — AccessDenied, throttling, timeouts, malformed answers, an unreachable cluster — is
 * Inconclusive whatever else it shows: its definite findings stay in the judgement as evidence,
 * but the verifier never acts on what it could not see.
 */
function conclude(findings: Finding[], observation: Observation): Judgement {
  const seen = findings.length === 0 ? unobservedParts(observation) : findings;
  // Routes alone prove a mismatch, never that the step can be served.
  const all =
    observation.routesOnly && !seen.some((finding) => !isUnobservable(finding))
      ? [...seen, targetHealthUnread(observation)]
      : seen;
  if (all.length === 0) return { verdict: 'Succeeded', findings: all, final: true, complete: true };
  const gaps = all.filter(isObservationGap);
  const definite = all.some((finding) => !isUnobservable(finding));
  if (gaps.length > 0) {
    // Waiting cannot lift a missing permission; anything else may clear before the deadline.
    return { verdict: 'Inconclusive', findings: all, final: gaps.some(isFinal), complete: false };
  }
  return {
    verdict: definite ? 'Failed' : 'Inconclusive',
    findings: all,
    final: !definite && all.some(isFinal),
    complete: true,
  };
}

const isFinal = (finding: Finding): boolean => FINAL.has(finding.code);

/** Unobservable codes that are conclusions about a complete observation, not gaps in it. */
const DECISIONS: ReadonlySet<FindingCode> = new Set<FindingCode>(['RolloutMovedOn', 'AmbiguousState']);

/** Something the observation could not see: it is incomplete, whatever it did see. */
export function isObservationGap(finding: Finding): boolean {
  return isUnobservable(finding) && !DECISIONS.has(finding.code);
}

function targetHealthUnread(observation: Observation): Finding {
  return {
    code: 'ObservationError',
    resource: `${observation.router} target groups`,
    expected: 'their target health',
    observed: 'not read',
    message:
      'this look read the routes only: target health was not read, so it cannot show the step is served',
  };
}

/**
 * What an observation without findings still failed to see: a router that reports no route at all
 * has verified nothing (a rule list lost in a malformed answer must never read as "all good"), and
 * one that reads target health must have read it for every canary or stable target group that
 * carries weight.
 */
function unobservedParts(observation: Observation): Finding[] {
  if (observation.routes.length === 0) {
    return [
      {
        code: 'ObservationError',
        resource: `${observation.router} routes`,
        expected: 'a route',
        observed: 'none',
        message: `the ${observation.router} observation saw no route and gave no reason: nothing was verified`,
      },
    ];
  }
  if (observation.backends.length === 0) return [];
  const observed = new Set(observation.backends.map((backend) => backend.resource));
  const unseen = new Set(
    observation.routes.flatMap((route) =>
      route.destinations
        .filter(({ role, weight }) => role !== 'unmanaged' && weight > 0)
        .map(({ resource }) => resource)
        .filter((resource) => !observed.has(resource)),
    ),
  );
  return [...unseen].map((resource) => ({
    code: 'ObservationError',
    resource,
    expected: 'its target health',
    observed: 'not read',
    message: `${resource} carries weight, its target health was not read`,
  }));
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
