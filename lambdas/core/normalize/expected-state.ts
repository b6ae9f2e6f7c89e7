import type { EventTrigger } from '../../../contract/event-catalog.js';
import type {
  AdditionalDestination,
  Expected,
  Successor,
  TrafficState,
  WeightTransition,
} from '../contracts/rollout-event.js';
import type { CanaryStep, CanaryStrategy, NotificationRollout } from './notification-body.js';
import { unsupportedRouters } from './traffic.js';

/**
 * What traffic split the rollout should be at when the notification was sent, derived the way
 * the Argo Rollouts controller picks its desired weight (rollout/trafficrouting.go
 * reconcileTrafficRouting, utils/replicaset/canary.go), from nothing but the Rollout it carries.
 *
 * A notification carries the controller's in-memory Rollout at the moment it records the event,
 * BEFORE it persists the status change that caused the event:
 * - on-rollout-step-completed: status.currentStepIndex is the step that JUST finished;
 * - on-rollout-updated: the revision annotation is new, but the status (currentPodHash,
 *   currentStepIndex, abort, canary.weights) still describes the previous revision;
 * - on-rollout-completed: status.stableRS (and status.canary.stablePingPong) are still the
 *   previous ones;
 * - on-rollout-aborted: status.abort may still be false when the controller itself aborts
 *   (failed analysis, progress deadline).
 * A `live` Rollout (read from the API server) has none of these quirks: its status is persisted,
 * so currentStepIndex is the step being executed.
 *
 * Weights are in units of `trafficRouting.maxTrafficWeight` (default 100): a setWeight of 5 with
 * maxTrafficWeight 1000 is 0.5 %, and stable = maxWeight − canary − experiment weights.
 */

const DEFAULT_MAX_WEIGHT = 100;
const CANARY_PAUSE_STEP = 'CanaryPauseStep';

export interface StepPosition {
  /** The step the event is about, after accounting for the pre-transition snapshot. */
  index: number;
  /** len(steps); 0 for blue-green. */
  count: number;
}

export interface DerivedState {
  expected: Expected;
  step: StepPosition;
  /** The rollout is (being) aborted. */
  aborted: boolean;
}

/** The last `setWeight` at or before `index` (Argo's GetCurrentSetWeight without the shortcuts). */
export function lastSetWeightAtOrBefore(
  steps: readonly CanaryStep[],
  index: number,
): { weight: number; at: number } | undefined {
  for (let at = Math.min(index, steps.length - 1); at >= 0; at--) {
    const weight = steps[at]?.setWeight;
    if (weight != null) return { weight, at };
  }
  return undefined;
}

/** The `setCanaryScale` in force at `index` (Argo's UseSetCanaryScale), if any. */
export function setCanaryScaleAt(
  steps: readonly CanaryStep[],
  index: number,
): NonNullable<CanaryStep['setCanaryScale']> | undefined {
  for (let at = Math.min(index, steps.length - 1); at >= 0; at--) {
    const scale = steps[at]?.setCanaryScale;
    if (!scale) continue;
    return scale.matchTrafficWeight ? undefined : scale;
  }
  return undefined;
}

/** ceil(replicas × weight / maxWeight), in integers (Argo's trafficWeightToReplicas). */
export function replicasForWeight(replicas: number, weight: number, maxWeight: number): number {
  return Math.floor((replicas * weight + maxWeight - 1) / maxWeight);
}

export function deriveExpectedState(trigger: EventTrigger, rollout: NotificationRollout): DerivedState {
  const { canary, blueGreen } = rollout.spec.strategy;
  if (canary) return deriveCanary(trigger, rollout, canary);
  if (blueGreen) return deriveBlueGreen(trigger, rollout);
  // NotificationRollout's refinement guarantees one strategy; keep the type checker honest.
  throw new Error('rollout has neither a canary nor a blueGreen strategy');
}

// ---- blue-green ---------------------------------------------------------------------------------

/**
 * Blue-green has no weights: the active Service takes all traffic. In the verifier's model the
 * "stable" side is the active Service and the "canary" side the preview Service, so the split
 * is always canary 0 / stable 100; what flips at promotion is which ReplicaSet the active
 * Service selects, which is a target check, not a weight. The active side needs spec.replicas
 * healthy targets (Argo switches it only to a fully available ReplicaSet).
 */
function deriveBlueGreen(trigger: EventTrigger, rollout: NotificationRollout): DerivedState {
  const replicas = rollout.spec.replicas ?? 1;
  const revision = rollout.metadata.annotations['rollout.argoproj.io/revision'];
  const aborted = isAborted(trigger, rollout);
  const derivation = stillAborted(trigger, aborted)
    ? 'blue-green aborted: the active Service stays on (or returns to) the stable ReplicaSet and takes all traffic'
    : {
        'on-rollout-updated': `blue-green revision ${revision} created: the active Service keeps all traffic while the preview side scales up`,
        'on-rollout-paused':
          'blue-green paused before promotion: the active Service keeps all traffic, the preview Service takes none',
        'on-rollout-resumed':
          'blue-green promotion resumed: the active Service takes all traffic and switches to the new ReplicaSet once it is fully available',
        'on-rollout-completed': `blue-green completed: revision ${revision} serves all traffic through the active Service`,
        'on-rollout-step-completed':
          'blue-green: the active Service takes all traffic, the preview Service none',
        'on-rollout-aborted': 'blue-green aborted: the active Service takes all traffic',
        live: `blue-green revision ${revision} (live): the active Service takes all traffic, the preview Service none`,
      }[trigger];
  return {
    aborted: stillAborted(trigger, aborted),
    step: { index: 0, count: 0 },
    expected: {
      canaryWeight: 0,
      stableWeight: DEFAULT_MAX_WEIGHT,
      maxWeight: DEFAULT_MAX_WEIGHT,
      derivation,
      minHealthyCanaryTargets: 0,
      minHealthyStableTargets: replicas,
      successors: [],
      replicas,
    },
  };
}

// ---- canary --------------------------------------------------------------------------------------

interface CanaryContext {
  trigger: EventTrigger;
  rollout: NotificationRollout;
  canary: CanaryStrategy;
  steps: readonly CanaryStep[];
  count: number;
  /** status.currentStepIndex, 0 when absent, at most len(steps). */
  index: number;
  maxWeight: number;
  replicas: number;
  trafficRouted: boolean;
  revision: number;
  /** status.canary.weights.canary.weight: what the controller last applied, when in range. */
  applied?: number;
}

/** What one branch of the derivation decided, before the common fields are filled in. */
interface Decision {
  canaryWeight: number;
  /** Experiment destinations that take weight from the stable side. */
  additional?: AdditionalDestination[];
  derivation: string;
  /** Canary replicas the expected weight implies (before the "0 when weight is 0" rule). */
  canaryTargets: number;
  successors: Successor[];
  stepIndex: number;
  transition?: WeightTransition;
}

function deriveCanary(
  trigger: EventTrigger,
  rollout: NotificationRollout,
  canary: CanaryStrategy,
): DerivedState {
  const steps = canary.steps ?? [];
  const status = rollout.status;
  const controllerApplied = snapshotPredatesWeights(trigger, rollout, steps)
    ? undefined
    : appliedWeights(rollout);
  const context: CanaryContext = {
    trigger,
    rollout,
    canary,
    steps,
    count: steps.length,
    index: Math.min(status.currentStepIndex ?? 0, steps.length),
    maxWeight: canary.trafficRouting?.maxTrafficWeight ?? DEFAULT_MAX_WEIGHT,
    replicas: rollout.spec.replicas ?? 1,
    trafficRouted: canary.trafficRouting != null,
    revision: rollout.metadata.annotations['rollout.argoproj.io/revision'],
    ...(controllerApplied ? { applied: controllerApplied.canaryWeight } : {}),
  };
  const aborted = isAborted(trigger, rollout);
  const decision = withDynamicStableScale(context, decideCanary(context, aborted), aborted);

  const { canaryWeight, additional = [] } = decision;
  const expectedState = stateOf(context.maxWeight, canaryWeight, additional, '');
  const stableWeight = expectedState.stableWeight;
  const scaledToZero = context.replicas === 0;
  return {
    aborted: stillAborted(trigger, aborted),
    step: { index: decision.stepIndex, count: context.count },
    expected: {
      canaryWeight,
      stableWeight,
      ...(additional.length > 0 ? { additional } : {}),
      maxWeight: context.maxWeight,
      derivation: withSuffixes(
        context,
        decision.transition ? `${decision.derivation}; ${decision.transition.reason}` : decision.derivation,
      ),
      // A rollout scaled to 0 keeps its weights but has no pods anywhere: nothing can be healthy.
      minHealthyCanaryTargets:
        canaryWeight > 0 && !scaledToZero ? Math.max(1, healthyNeeded(context, decision.canaryTargets)) : 0,
      minHealthyStableTargets: stableWeight > 0 && !scaledToZero ? 1 : 0,
      ...(controllerApplied ? { controllerApplied } : {}),
      successors: distinctSuccessors(expectedState, decision.successors),
      ...(decision.transition ? { transition: decision.transition } : {}),
      replicas: context.replicas,
    },
  };
}

/** The branches in the order reconcileTrafficRouting evaluates them, plus the snapshot quirks. */
function decideCanary(context: CanaryContext, aborted: boolean): Decision {
  const { trigger, rollout, count, index, revision } = context;
  const status = rollout.status;

  if (trigger === 'on-rollout-updated') return decideNewRevision(context);

  if (trigger === 'on-rollout-completed') {
    // promoteStable() is about to set stableRS = currentPodHash: IsFullyPromoted becomes true
    // on the next reconcile, the stable Service then selects the new pods and the desired
    // canary weight is 0. The payload may still show the end-of-steps split (canary at
    // maxWeight) for the moment between the two; the steady state the rollout settles in,
    // without anyone acting, is "fully promoted", so that is what is expected.
    return {
      canaryWeight: 0,
      derivation: `rollout completed: revision ${revision} becomes stable and takes all traffic through the stable side (the payload's status.stableRS still names the previous hash)`,
      canaryTargets: 0,
      successors: [],
      stepIndex: count,
    };
  }

  if (status.stableRS && status.stableRS === status.currentPodHash) {
    return {
      canaryWeight: 0,
      derivation:
        'fully promoted (status.stableRS equals status.currentPodHash): all traffic on the stable side',
      canaryTargets: 0,
      successors: [],
      stepIndex: index,
    };
  }

  if (aborted) {
    return {
      canaryWeight: 0,
      derivation: 'aborted: all traffic returns to the stable side',
      canaryTargets: 0,
      successors: [],
      stepIndex: index,
    };
  }

  if (count === 0) {
    // GetCurrentCanaryStep returns no index without steps: the controller never gives the
    // canary weight and promotes once the new ReplicaSet is fully available.
    return {
      canaryWeight: 0,
      derivation:
        'no canary steps: the canary takes no traffic and the rollout is promoted once the new ReplicaSet is fully available',
      canaryTargets: 0,
      successors: [],
      stepIndex: 0,
    };
  }

  if (status.promoteFull) return decidePromoteFull(context);

  if (index >= count) return decideEndOfSteps(context);

  return decideAtStep(context);
}

/**
 * on-rollout-updated: the status still describes the previous revision, but the controller
 * is about to reset it (currentStepIndex 0, abort cleared) for the new ReplicaSet, which has no
 * available pods yet, and Argo gives a canary without available pods no weight — it resets the
 * weight before anything else. The steps then restart at step 0. The first revision (no stable
 * ReplicaSet) is promoted without steps.
 */
function decideNewRevision(context: CanaryContext): Decision {
  const { rollout, revision } = context;
  if (!rollout.status.stableRS) {
    return {
      canaryWeight: 0,
      derivation: `initial deploy (revision ${revision}): there is no stable ReplicaSet yet, the rollout is promoted without running its steps`,
      canaryTargets: 0,
      successors: [],
      stepIndex: 0,
    };
  }
  return {
    canaryWeight: 0,
    derivation: `new revision ${revision}: the canary takes no traffic until its new ReplicaSet has available pods, then the steps restart at step 0`,
    canaryTargets: 0,
    successors: context.count === 0 ? [] : walkSteps(context, 0, 0),
    stepIndex: 0,
  };
}

/**
 * status.promoteFull: Argo freezes the canary weight at what it last applied
 * (status.canary.weights) until the new ReplicaSet is fully available, then promotes (canary 0).
 * With dynamicStableScale the weight instead follows the new ReplicaSet's availability up to
 * maxTrafficWeight (withDynamicStableScale adds that range).
 */
function decidePromoteFull(context: CanaryContext): Decision {
  const { steps, index, maxWeight, applied } = context;
  const fromSteps = lastSetWeightAtOrBefore(steps, index);
  const weight = applied ?? fromSteps?.weight ?? 0;
  const source = applied !== undefined ? 'the weight Argo last applied' : describeSetWeight(fromSteps);
  return {
    canaryWeight: weight,
    derivation: `full promotion requested: the canary stays at ${weight} (${source}) until the new ReplicaSet is fully available, then the rollout is promoted`,
    canaryTargets: replicasForWeight(context.replicas, weight, maxWeight),
    successors: [{ canaryWeight: 0, stableWeight: maxWeight, reason: 'fully promoted' }],
    stepIndex: index,
  };
}

/** currentStepIndex == len(steps), not yet promoted: the canary goes to maxTrafficWeight. */
function decideEndOfSteps(context: CanaryContext): Decision {
  const { steps, count, maxWeight, replicas } = context;
  const promoted: Successor = { canaryWeight: 0, stableWeight: maxWeight, reason: 'fully promoted' };
  if (canaryAtDesiredCount(context, replicas)) {
    return {
      canaryWeight: maxWeight,
      derivation: `all ${count} steps done: the canary takes maxTrafficWeight ${maxWeight} until the rollout is fully promoted`,
      canaryTargets: replicas,
      successors: [promoted],
      stepIndex: count,
    };
  }
  const previous = lastSetWeightAtOrBefore(steps, count - 1);
  const weight = previous?.weight ?? 0;
  return {
    canaryWeight: weight,
    derivation: `all ${count} steps done, but the canary is not yet at the ${replicas} replicas maxTrafficWeight needs (${describeCounts(context)}): ${describeSetWeight(previous)} still holds`,
    canaryTargets: canaryReplicas(context, count - 1, weight),
    successors: [{ canaryWeight: maxWeight, stableWeight: 0, reason: 'all steps done' }, promoted],
    stepIndex: count,
  };
}

/** Somewhere inside the steps: the last setWeight at or before the current step. */
function decideAtStep(context: CanaryContext): Decision {
  const { trigger, steps, index, maxWeight, rollout } = context;
  const step = steps[index] ?? {};
  const justCompleted = trigger === 'on-rollout-step-completed';
  const current = lastSetWeightAtOrBefore(steps, index);
  const where = justCompleted
    ? `step ${index} just completed`
    : trigger === 'on-rollout-paused'
      ? `paused at step ${index}`
      : trigger === 'on-rollout-resumed'
        ? `resumed at step ${index}`
        : trigger === 'live'
          ? `at step ${index}, as the Rollout is now`
          : `at step ${index}`;

  const successors: Successor[] = [];
  let weight = current?.weight ?? 0;
  let canaryTargets = canaryReplicas(context, index, weight);
  let derivation = `${describeSetWeight(current)} (${where})`;

  // reconcileTrafficRouting: while the canary is not at the replica count the current step needs
  // (replicaProgressThreshold counts), the previous setWeight stays in force (and 0 while the
  // canary has no available pods). A completed step was at its count by definition; otherwise
  // this only changes anything when the current step is itself a setWeight.
  if (!justCompleted && step.setWeight != null) {
    const desired = canaryReplicas(context, index, step.setWeight);
    if (!canaryAtDesiredCount(context, desired)) {
      const previous = lastSetWeightAtOrBefore(steps, index - 1);
      const noneAvailable =
        (rollout.status.updatedReplicas ?? 0) === 0 || (rollout.status.availableReplicas ?? 0) === 0;
      weight = noneAvailable ? 0 : (previous?.weight ?? 0);
      canaryTargets = noneAvailable ? 0 : canaryReplicas(context, index - 1, weight);
      const holding = noneAvailable
        ? 'canary 0: the new ReplicaSet has no available pods yet'
        : `${describeSetWeight(previous)} still holds`;
      derivation = `${holding}, while the canary scales to the ${desired} replica(s) setWeight ${step.setWeight} at step ${index} needs (${describeCounts(context)}; ${where})`;
      successors.push(stateOf(maxWeight, step.setWeight, [], `setWeight at step ${index}`));
    }
  }

  // calculateWeightDestinationsFromExperiment: while the step's experiment runs, each weighted
  // template's Service takes its weight out of the stable side.
  let additional: AdditionalDestination[] | undefined;
  if (step.experiment && !justCompleted) {
    const running = runningExperimentDestinations(rollout);
    const templates = experimentTemplateDestinations(step);
    if (running.length > 0) {
      additional = running;
      derivation += `, experiment destinations take ${sum(running)} from stable`;
      successors.push(stateOf(maxWeight, weight, [], 'experiment finished'));
    } else if (templates.length > 0) {
      derivation += `; once the experiment at step ${index} runs, its templates take ${sum(templates)} from stable`;
      successors.push(stateOf(maxWeight, weight, templates, `experiment at step ${index} running`));
    }
  }

  if (!isHeld(context, step)) {
    const start = justCompleted || (trigger === 'on-rollout-resumed' && step.pause) ? index + 1 : index;
    successors.push(...walkSteps(context, start, weight));
  }
  return {
    canaryWeight: weight,
    ...(additional ? { additional } : {}),
    derivation,
    canaryTargets,
    successors,
    stepIndex: index,
  };
}

/**
 * dynamicStableScale makes the controller walk the canary weight through a range on its own:
 * - abort and rollback to the stable revision: calculateDesiredWeightOnAbortOrStableRollback
 *   steps the weight down (through the setWeight steps in reverse) only as fast as the stable
 *   ReplicaSet becomes available again, never above the weight last applied;
 * - a new revision, or a step that lowers the weight: checkReplicasAvailable keeps the weight
 *   last applied until the (scaled-down) stable ReplicaSet can take the rest;
 * - full promotion: the weight rises with the new ReplicaSet's availability up to maxTrafficWeight.
 * The payload does not carry the ReplicaSets' own availability, so the whole range is accepted.
 */
function withDynamicStableScale(context: CanaryContext, decision: Decision, aborted: boolean): Decision {
  const { canary, trigger, rollout, maxWeight, steps, index } = context;
  if (!canary.dynamicStableScale || !context.trafficRouted || trigger === 'on-rollout-completed') {
    return decision;
  }
  const status = rollout.status;
  const applied = context.applied ?? lastSetWeightAtOrBefore(steps, index)?.weight ?? 0;
  const range = (min: number, max: number, reason: string): Decision =>
    min === max
      ? decision
      : { ...decision, transition: { minCanaryWeight: min, maxCanaryWeight: max, reason } };

  if (status.promoteFull && !aborted && trigger !== 'on-rollout-updated') {
    return range(
      decision.canaryWeight,
      maxWeight,
      'full promotion with dynamicStableScale: the canary weight rises with the new ReplicaSet’s availability',
    );
  }
  const fullyPromoted = status.stableRS != null && status.stableRS === status.currentPodHash;
  if (fullyPromoted) {
    // IsDynamicallyRollingBackToStable: the pod template went back to the stable revision while a
    // canary still had weight (status.canary.weights still names the abandoned canary's hash).
    const weights = status.canary?.weights;
    const rollingBack =
      weights?.canary.podTemplateHash != null && weights.canary.podTemplateHash !== status.currentPodHash;
    return rollingBack
      ? range(
          0,
          applied,
          'rollback to the stable revision with dynamicStableScale: the canary weight steps down as the stable ReplicaSet scales back up',
        )
      : decision;
  }
  if (aborted && trigger !== 'on-rollout-updated') {
    return range(
      0,
      applied,
      'aborted with dynamicStableScale: the canary weight steps down to 0 as the stable ReplicaSet scales back up',
    );
  }
  if (applied > decision.canaryWeight) {
    return range(
      decision.canaryWeight,
      applied,
      'dynamicStableScale: the weight Argo last applied holds until the scaled-down stable ReplicaSet can take the rest',
    );
  }
  return decision;
}

/**
 * The rollout will not leave the current step on its own: a user pause (spec.paused), a pause
 * condition other than the step's own timed pause (an inconclusive analysis…), or a pause
 * event at a step that is not a pause step (so the reason is not in the snapshot).
 * Indefinite pause steps are handled by walkSteps.
 */
function isHeld(context: CanaryContext, step: CanaryStep): boolean {
  const { trigger, rollout } = context;
  if (trigger === 'on-rollout-resumed') return false;
  if (rollout.spec.paused) return true;
  if ((rollout.status.pauseConditions ?? []).some((condition) => condition.reason !== CANARY_PAUSE_STEP)) {
    return true;
  }
  return trigger === 'on-rollout-paused' && !step.pause;
}

/**
 * The states the rollout reaches on its own from step `start` (with `weight` in force before it):
 * each setWeight and each running weighted experiment up to (not past) the first pause without a
 * duration; when the steps run out first, the end-of-steps state (canary = maxWeight) and the
 * fully promoted state (canary 0).
 */
function walkSteps(context: CanaryContext, start: number, weight: number): Successor[] {
  const { steps, count, maxWeight } = context;
  const successors: Successor[] = [];
  let inForce = weight;
  for (let at = start; at < count; at++) {
    const step = steps[at];
    if (step?.setWeight != null) {
      inForce = step.setWeight;
      successors.push(stateOf(maxWeight, inForce, [], `setWeight at step ${at}`));
    }
    const templates = step?.experiment ? experimentTemplateDestinations(step) : [];
    if (templates.length > 0) {
      successors.push(stateOf(maxWeight, inForce, templates, `experiment at step ${at} running`));
    }
    if (step?.pause && step.pause.duration == null) return successors;
  }
  successors.push({ canaryWeight: maxWeight, stableWeight: 0, reason: 'all steps done' });
  successors.push({ canaryWeight: 0, stableWeight: maxWeight, reason: 'fully promoted' });
  return successors;
}

/** A split: canary, the experiment destinations, and the stable side taking what is left. */
function stateOf(
  maxWeight: number,
  canaryWeight: number,
  additional: AdditionalDestination[],
  reason: string,
): Successor {
  return {
    canaryWeight,
    stableWeight: Math.max(0, maxWeight - canaryWeight - sum(additional)),
    ...(additional.length > 0 ? { additional } : {}),
    reason,
  };
}

/** status.canary.weights.additional: the experiment Services the controller weights right now. */
function runningExperimentDestinations(rollout: NotificationRollout): AdditionalDestination[] {
  return (rollout.status.canary?.weights?.additional ?? [])
    .filter((destination) => destination.weight > 0)
    .map((destination) => ({
      weight: destination.weight,
      ...(destination.serviceName ? { service: destination.serviceName } : {}),
    }));
}

/** The weighted templates of an experiment step: their Services are named only once they exist. */
function experimentTemplateDestinations(step: CanaryStep): AdditionalDestination[] {
  return (step.experiment?.templates ?? [])
    .filter((template) => (template.weight ?? 0) > 0)
    .map((template) => ({
      weight: template.weight ?? 0,
      template: template.name,
      ...(template.service?.name ? { service: template.service.name } : {}),
    }));
}

function sum(destinations: readonly AdditionalDestination[]): number {
  return destinations.reduce((total, destination) => total + destination.weight, 0);
}

function distinctSuccessors(expected: TrafficState, successors: Successor[]): Successor[] {
  const seen = new Set([key(expected)]);
  return successors.filter((successor) => {
    const k = key(successor);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function key(state: TrafficState): string {
  const additional = (state.additional ?? []).map((destination) => destination.weight).sort((a, b) => a - b);
  return `${state.canaryWeight}/${state.stableWeight}/${additional.join('+')}`;
}

/**
 * The canary replica count Argo wants for `weight` at step `index` (the setCanaryScale in force,
 * else ceil(replicas × weight / maxWeight), raised to minPodsPerReplicaSet). Without traffic
 * routing Argo picks the replica split closest to the weight (floor or ceil, sometimes with a
 * surge replica); the floor is a safe lower bound for a health check.
 */
function canaryReplicas(context: CanaryContext, index: number, weight: number): number {
  const { steps, replicas, maxWeight, trafficRouted, canary } = context;
  if (!trafficRouted) {
    if (weight >= maxWeight) return replicas;
    return Math.floor((replicas * weight) / maxWeight);
  }
  const scale = index < context.count ? setCanaryScaleAt(steps, index) : undefined;
  if (scale?.replicas != null) return scale.replicas;
  const count = replicasForWeight(replicas, scale?.weight ?? weight, maxWeight);
  const minPods = canary.minPodsPerReplicaSet;
  return count > 0 && minPods != null ? Math.max(count, minPods) : count;
}

/**
 * Is the canary far enough towards `desired` available replicas for Argo to move the weight?
 * Argo compares the new ReplicaSet's own counts (AtDesiredReplicaCountsForCanary): all desired
 * pods available, or with `replicaProgressThreshold` that share (Percent) or number (Pods) of
 * them. The payload only has rollout-wide counts:
 * - status.updatedReplicas: pods of the new ReplicaSet (its status.replicas);
 * - status.replicas / availableReplicas: pods / available pods of every ReplicaSet.
 * Blaming every unavailable pod of the rollout on the canary gives a lower bound of the canary's
 * available pods; only when that bound meets the requirement is the step's weight expected.
 * Otherwise the previous weight is expected and the step's own weight becomes a successor, so
 * either outcome of the race is accepted.
 */
function canaryAtDesiredCount(context: CanaryContext, desired: number): boolean {
  const status = context.rollout.status;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? updated;
  const available = status.availableReplicas ?? 0;
  const canaryAvailable = Math.max(0, updated - Math.max(0, total - available));
  const threshold = context.canary.replicaProgressThreshold;
  if (threshold && threshold.value >= 0) {
    if (threshold.type === 'Percent')
      return desired === 0 || canaryAvailable * 100 >= threshold.value * desired;
    return canaryAvailable >= threshold.value;
  }
  return updated === desired && canaryAvailable >= desired;
}

/**
 * Healthy canary targets the weight needs: all the pods Argo wants, or, with
 * `replicaProgressThreshold`, the share or number at which Argo already moves the weight.
 */
function healthyNeeded(context: CanaryContext, canaryTargets: number): number {
  const threshold = context.canary.replicaProgressThreshold;
  if (!threshold || threshold.value < 0) return canaryTargets;
  const atThreshold =
    threshold.type === 'Percent' ? Math.ceil((canaryTargets * threshold.value) / 100) : threshold.value;
  return Math.min(canaryTargets, atThreshold);
}

function describeCounts(context: CanaryContext): string {
  const status = context.rollout.status;
  return `updatedReplicas ${status.updatedReplicas ?? 0}, availableReplicas ${status.availableReplicas ?? 0} of ${status.replicas ?? 0}`;
}

function describeSetWeight(found: { weight: number; at: number } | undefined): string {
  return found ? `setWeight ${found.weight} at step ${found.at}` : 'no setWeight yet, canary 0';
}

function withSuffixes(context: CanaryContext, derivation: string): string {
  const notes: string[] = [];
  if (context.maxWeight !== DEFAULT_MAX_WEIGHT)
    notes.push(`weights out of maxTrafficWeight ${context.maxWeight}`);
  if (!context.trafficRouted) notes.push('no traffic routing: the split follows replica counts');
  if (context.replicas === 0) notes.push('scaled to 0 replicas: no healthy targets are required');
  const threshold = context.canary.replicaProgressThreshold;
  if (threshold && threshold.value >= 0) {
    notes.push(
      `replicaProgressThreshold ${threshold.value}${threshold.type === 'Percent' ? ' %' : ' pod(s)'} of the canary moves the weight`,
    );
  }
  const unsupported = unsupportedRouters(context.canary);
  if (unsupported.length > 0) notes.push(`traffic routing via ${unsupported.join(', ')} is not verified`);
  return [derivation, ...notes].join('; ');
}

/**
 * status.abort, or the abort event itself: when the controller aborts on its own (failed
 * analysis, progress deadline) the snapshot is taken before it writes status.abort.
 */
function isAborted(trigger: EventTrigger, rollout: NotificationRollout): boolean {
  return trigger === 'on-rollout-aborted' || rollout.status.abort === true;
}

/** A new revision (resetRolloutStatus) and a promotion (promoteStable) both clear the abort. */
function stillAborted(trigger: EventTrigger, aborted: boolean): boolean {
  return aborted && trigger !== 'on-rollout-updated' && trigger !== 'on-rollout-completed';
}

/**
 * The controller sets a setWeight step's weight and completes the step in the same reconcile, and
 * the step-completed notification carries the Rollout from before it: its status.canary.weights
 * are the weights before the step (seen with the real controller: 0/100 on the step-completed of
 * `setWeight: 20`). Reported as what Argo applied, they would blame the controller for a step it
 * did apply.
 */
function snapshotPredatesWeights(
  trigger: EventTrigger,
  rollout: NotificationRollout,
  steps: readonly CanaryStep[],
): boolean {
  if (trigger !== 'on-rollout-step-completed') return false;
  const index = rollout.status.currentStepIndex ?? 0;
  return steps[index]?.setWeight != null;
}

/** status.canary.weights, when it fits the verifier's weight range. */
function appliedWeights(rollout: NotificationRollout): Expected['controllerApplied'] {
  const weights = rollout.status.canary?.weights;
  if (!weights) return undefined;
  const inRange = (value: number) => Number.isInteger(value) && value >= 0 && value <= 2_147_483_647;
  if (!inRange(weights.canary.weight) || !inRange(weights.stable.weight)) return undefined;
  return {
    canaryWeight: weights.canary.weight,
    stableWeight: weights.stable.weight,
    ...(weights.verified != null ? { verified: weights.verified } : {}),
  };
}
