import type { KubeApi, KubeApiForCluster } from './kube-api.js';
import { type ClusterEndpoint, HttpsKubeApi, type HttpsKubeApiOptions } from './kube-client.js';

/** Where a cluster's API server is and how to authenticate to it (EKS DescribeCluster, or a secret). */
export interface ClusterConnector {
  connect(cluster: string): Promise<ClusterEndpoint>;
  /** Forget what is cached for a cluster (its token), e.g. after a 401. */
  forget?(cluster: string): void;
}

export class ClusterNotConfiguredError extends Error {
  override readonly name = 'ClusterNotConfiguredError';
}

/**
 * One HTTPS client per cluster, reused across invocations (keep-alive, CA parsed once), replaced
 * when the cluster's endpoint or CA changes. Only the configured clusters are ever contacted.
 */
export class ClusterApis {
  private readonly clients = new Map<string, { key: string; api: HttpsKubeApi }>();

  constructor(
    private readonly connector: ClusterConnector,
    private readonly clusterNames: readonly string[],
    private readonly clientOptions: HttpsKubeApiOptions = {},
  ) {}

  readonly forCluster: KubeApiForCluster = async (cluster) => {
    const name = this.resolveName(cluster);
    const endpoint = await this.connector.connect(name);
    const key = `${endpoint.server}\n${endpoint.caPem}`;
    const cached = this.clients.get(name);
    if (cached?.key === key) return cached.api;
    cached?.api.close();
    const api = new HttpsKubeApi(
      {
        ...endpoint,
        // Through the connector every time: a token rotated in its secret, or renewed, is picked up
        // without replacing the client.
        token: async () => (await this.connector.connect(name)).token(),
        forgetToken: () => this.connector.forget?.(name),
      },
      this.clientOptions,
    );
    this.clients.set(name, { key, api });
    return api satisfies KubeApi;
  };

  close(): void {
    for (const { api } of this.clients.values()) api.close();
    this.clients.clear();
  }

  private resolveName(cluster: string | undefined): string {
    if (cluster === undefined) {
      const [only, ...others] = this.clusterNames;
      if (only !== undefined && others.length === 0) return only;
      throw new ClusterNotConfiguredError(
        this.clusterNames.length === 0
          ? 'no cluster is configured (CLUSTER_NAMES is empty)'
          : `the event names no cluster and ${this.clusterNames.length} are configured (${this.clusterNames.join(', ')}): add ?cluster=<name> to the webhook URL of each cluster`,
      );
    }
    if (!this.clusterNames.includes(cluster)) {
      throw new ClusterNotConfiguredError(
        `cluster "${cluster}" is not one of the configured clusters (${this.clusterNames.join(', ') || 'none'}): add it to the stack's clusterNames`,
      );
    }
    return cluster;
  }
}
