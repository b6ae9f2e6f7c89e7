import type { KubeApiForCluster } from '../lambdas/core/cluster/kube-api.js';
import { getObject } from '../lambdas/core/cluster/kube-api.js';
import { KubeApiError } from '../lambdas/core/cluster/kube-errors.js';
import { InvalidKubernetesNameError, rolloutPath } from '../lambdas/core/cluster/paths.js';
import type { RolloutEventDetail } from '../lambdas/core/contracts/rollout-event.js';
import { NotificationValidationError, normalizeLiveRollout } from '../lambdas/core/normalize/index.js';
import { UsageError } from './usage-error.js';

/** The Rollout could be named but not read: the verifier cannot say anything about it (exit 2). */
export class LiveRolloutUnreadable extends Error {
  override readonly name = 'LiveRolloutUnreadable';
}

/**
 * `verify --rollout ns/name` without an expected weight: read the Rollout as the API server holds
 * it now and verify its current expected state (trigger `live`: the persisted status, not a
 * notification's pre-transition snapshot), whatever phase it is in.
 */
export async function readLiveRollout(
  forCluster: KubeApiForCluster,
  cluster: string | undefined,
  reference: string,
): Promise<RolloutEventDetail> {
  const [namespace, name, extra] = reference.split('/');
  if (!namespace || !name || extra !== undefined) {
    throw new UsageError(`--rollout: "${reference}" must be namespace/name`);
  }
  let object: unknown;
  try {
    object = await getObject(await forCluster(cluster), rolloutPath(namespace, name));
  } catch (error) {
    if (error instanceof InvalidKubernetesNameError) throw new UsageError(`--rollout: ${error.message}`);
    if (error instanceof KubeApiError && error.status === 404) {
      throw new UsageError(`--rollout: rollout ${namespace}/${name} does not exist in the cluster`);
    }
    if (error instanceof KubeApiError && error.status === 403) {
      throw new LiveRolloutUnreadable(
        `cannot read rollout ${namespace}/${name}: the cluster refused "get rollouts.argoproj.io" (grant it, e.g. the ClusterRole rollout-verifier-observer in deploy/cluster/clusterroles.yaml)`,
      );
    }
    if (error instanceof UsageError) {
      throw new UsageError(
        `--rollout without --canary-weight reads the Rollout from the cluster, but ${error.message} (or give the expected state: --canary-weight)`,
      );
    }
    throw new LiveRolloutUnreadable(
      `cannot read rollout ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return normalizeLiveRollout(object, { receivedAt: new Date(), ...(cluster ? { cluster } : {}) });
  } catch (error) {
    if (error instanceof NotificationValidationError) {
      throw new UsageError(
        `--rollout: the cluster's ${namespace}/${name} is not a Rollout the verifier can verify:\n${error.message}`,
      );
    }
    throw error;
  }
}
