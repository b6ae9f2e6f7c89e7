import { z } from 'zod';
import {
  CLUSTER_NAMES,
  CLUSTER_SECRET_ARNS,
  KUBE_MAX_ATTEMPTS,
  KUBE_REQUEST_TIMEOUT_MS,
} from '../../contract/environment.js';
import { ClusterApis } from '../core/cluster/cluster-apis.js';
import { ClusterConnections } from '../core/cluster/connections.js';
import type { HttpsKubeApiOptions } from '../core/cluster/kube-client.js';
import { ClusterName } from '../core/contracts/cluster-name.js';
import { clusterSecretArns, commaSeparated, emptyIsUnset } from './environment.js';

/** The cluster settings both cluster-reading functions (verify, callback) share. */
export const ClusterSettings = z.object({
  /** The clusters this function may call, comma-separated; any other cluster is refused. */
  [CLUSTER_NAMES]: commaSeparated(ClusterName),
  /** Non-EKS clusters: JSON `{"<cluster>": "<secret ARN>"}`, each secret `{server, certificateAuthorityData, token}`. */
  [CLUSTER_SECRET_ARNS]: z.preprocess(emptyIsUnset, clusterSecretArns('connection').default({})),
  /** Per attempt against the Kubernetes API; 429, 5xx and timeouts are retried with backoff. */
  [KUBE_REQUEST_TIMEOUT_MS]: z.coerce.number().int().positive().default(5_000),
  [KUBE_MAX_ATTEMPTS]: z.coerce.number().int().min(1).max(10).default(4),
});
export type ClusterSettings = z.infer<typeof ClusterSettings>;

/** Every configured cluster: the EKS ones by name and the ones reached through a secret. */
export function configuredClusters(settings: ClusterSettings): string[] {
  return [...new Set([...settings.CLUSTER_NAMES, ...Object.keys(settings.CLUSTER_SECRET_ARNS)])];
}

export function createClusterApis(
  settings: ClusterSettings,
  options: Pick<HttpsKubeApiOptions, 'rbacHint'> & { connections?: ClusterConnections } = {},
): ClusterApis {
  return new ClusterApis(
    options.connections ?? new ClusterConnections({ secretArns: settings.CLUSTER_SECRET_ARNS }),
    configuredClusters(settings),
    {
      requestTimeoutMs: settings.KUBE_REQUEST_TIMEOUT_MS,
      maxAttempts: settings.KUBE_MAX_ATTEMPTS,
      rbacHint: options.rbacHint,
    },
  );
}
