import { ClusterNotConfiguredError } from './cluster/cluster-apis.js';
import { getObject, type KubeApiForCluster } from './cluster/kube-api.js';
import { rolloutPath } from './cluster/paths.js';
import type { Expected, RolloutEventDetail, TrafficState } from './contracts/rollout-event.js';
import { deriveExpectedState } from './normalize/expected-state.js';
import { NotificationRollout, REVISION_ANNOTATION } from './normalize/notification-body.js';
import { buildTraffic } from './normalize/traffic.js';
import type { ObservedCurrentRollout } from './observation.js';

/**
 * Reads the Rollout next to each observation of its routes, so the judge can tell a rollout that
 * moved on since the event (promoted, aborted, a new revision) from one whose traffic is wrong: a
 * verification that outlives its step compares the routes with what the Rollout expects NOW, not
 * only with the states the event could foresee. Optional context: when the Rollout cannot be read
 * the verification goes on without it, as it does without cluster access.
 */
export type CurrentRolloutReader = (
  event: RolloutEventDetail,
  signal?: AbortSignal,
) => Promise<ObservedCurrentRollout | undefined>;

export function currentRolloutReader(kubeFor: KubeApiForCluster): CurrentRolloutReader {
  return async (event, signal) => {
    // A live event was derived from this very read.
    if (event.trigger === 'live') return undefined;
    const { namespace, name } = event.rollout;
    const resource = `rollout/${namespace}/${name}`;
    let raw: unknown;
    try {
      raw = await getObject(await kubeFor(event.cluster), rolloutPath(namespace, name), signal);
    } catch (error) {
      if (error instanceof ClusterNotConfiguredError) return undefined;
      throw error;
    }
    const parsed = NotificationRollout.safeParse(raw);
    if (!parsed.success) return undefined;
    const rollout = parsed.data;
    if (rollout.metadata.uid !== event.rollout.uid) {
      return { resource, supersededBy: `the Rollout was re-created (uid ${rollout.metadata.uid})` };
    }
    const revision = rollout.metadata.annotations[REVISION_ANNOTATION];
    if (revision !== event.rollout.revision) {
      return {
        resource,
        supersededBy: `the Rollout is at revision ${revision} now, not ${event.rollout.revision}`,
      };
    }
    const { expected, step } = deriveExpectedState('live', rollout);
    return { resource, stepIndex: step.index, expected: inEventRoles(event, rollout, expected) };
  };
}

/**
 * With ping-pong the Services trade roles when a revision becomes stable: the routes are observed
 * in the event's roles, so a Rollout read after the swap has its expectation turned around to them.
 */
function inEventRoles(event: RolloutEventDetail, rollout: NotificationRollout, expected: Expected): Expected {
  if (event.traffic.router !== 'alb') return expected;
  const live = buildTraffic('live', rollout);
  if (live.router !== 'alb') return expected;
  const swapped =
    live.stableService === event.traffic.canaryService && live.canaryService === event.traffic.stableService;
  return swapped ? swapSides(expected) : expected;
}

function swapSides(expected: Expected): Expected {
  const turn = <T extends TrafficState>(state: T): T => ({
    ...state,
    canaryWeight: state.stableWeight,
    stableWeight: state.canaryWeight,
  });
  const { transition, controllerApplied } = expected;
  return {
    ...turn(expected),
    minHealthyCanaryTargets: expected.minHealthyStableTargets,
    minHealthyStableTargets: expected.minHealthyCanaryTargets,
    successors: expected.successors.map(turn),
    ...(controllerApplied ? { controllerApplied: turn(controllerApplied) } : {}),
    ...(transition
      ? {
          transition: {
            ...transition,
            minCanaryWeight: expected.maxWeight - transition.maxCanaryWeight,
            maxCanaryWeight: expected.maxWeight - transition.minCanaryWeight,
          },
        }
      : {}),
  };
}
