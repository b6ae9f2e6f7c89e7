import type { Finding } from '../contracts/verdict-event.js';
import { cutShortFinding } from '../cut-short.js';
import { MalformedResponseError, malformedResponseFinding } from '../malformed-response.js';
import type { Observation } from '../observation.js';
import { ClusterAccessError } from './connections.js';
import { KubeApiError, resourceOf, verbOf } from './kube-errors.js';
import { InvalidKubernetesNameError } from './paths.js';

/**
 * A failed read of the cluster as an Inconclusive finding that says what to fix: the verifier
 * could not see, which is never a reason to fail (or abort) a rollout.
 */
export function findingFromKubeError(error: unknown, resource: string): Finding {
  if (error instanceof MalformedResponseError) return malformedResponseFinding(error, resource);
  const cutShort = cutShortFinding(error, resource, `the read of ${resource}`);
  if (cutShort) return cutShort;
  if (error instanceof KubeApiError && error.status === 403) {
    const { group, resource: kind } = resourceOf(error.path);
    const permission = `${verbOf(error.method, error.path)} ${kind}${group ? `.${group}` : ''}`;
    return {
      code: 'AccessDenied',
      resource,
      expected: `allowed: ${permission}`,
      observed: 'Forbidden',
      message: `the verifier may not ${permission}: grant it in the ClusterRole "rollout-verifier-observer" (deploy/cluster/clusterroles.yaml)`,
      missingPermission: permission,
    };
  }
  if (error instanceof ClusterAccessError) {
    return {
      code: error.kind === 'AccessDenied' ? 'AccessDenied' : 'ObservationError',
      resource,
      expected: 'a reachable cluster',
      observed: error.kind,
      message: error.message,
      ...(error.missingPermission ? { missingPermission: error.missingPermission } : {}),
    };
  }
  if (error instanceof KubeApiError && error.status === 404) {
    return {
      code: 'ResourceNotFound',
      resource,
      expected: 'exists',
      observed: 'NotFound',
      message: `${resource} does not exist: ${error.message}`,
    };
  }
  if (error instanceof KubeApiError && error.status === 429) {
    return {
      code: 'Throttled',
      resource,
      expected: 'an answer',
      observed: 'TooManyRequests',
      message: `the Kubernetes API kept throttling the verifier: ${error.message}`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'ObservationError',
    resource,
    expected: 'an answer',
    observed:
      error instanceof InvalidKubernetesNameError
        ? 'invalid name'
        : error instanceof Error
          ? error.name
          : 'error',
    message: `reading ${resource} from the cluster failed: ${message}`,
  };
}

/** A router that could not even reach the cluster: nothing seen, one finding saying why. */
export function unreachableObservation(router: string, resource: string, error: unknown): Observation {
  return { router, routes: [], backends: [], problems: [findingFromKubeError(error, resource)] };
}
