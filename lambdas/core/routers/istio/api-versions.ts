import { getObject, type KubeApi } from '../../cluster/kube-api.js';
import { isKubeStatus } from '../../cluster/kube-errors.js';
import { customObjectPath } from '../../cluster/paths.js';

/**
 * Reads a custom resource through the first of several API versions the cluster serves, and
 * remembers per cluster which one answered. Every served version of a CRD returns the same stored
 * objects, so the choice only decides whether the API server knows the path at all: a 404 is tried
 * on the next version, and only a 404 from every version (or from the one that answered before)
 * means the object does not exist. RBAC is per API group, so a 403 is final at once.
 */
export class ServedVersions {
  private readonly served = new Map<string, string>();

  constructor(
    readonly group: string,
    readonly plural: string,
    readonly versions: readonly string[],
  ) {
    if (versions.length === 0) throw new Error(`no API version given for ${plural}.${group}`);
  }

  async get<T>(
    api: KubeApi,
    cluster: string | undefined,
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    const key = cluster ?? '';
    const known = this.served.get(key);
    let notFound: unknown;
    for (const version of known ? [known] : this.versions) {
      try {
        const object = await getObject<T>(
          api,
          customObjectPath(this.group, version, this.plural, namespace, name),
          signal,
        );
        this.served.set(key, version);
        return object;
      } catch (error) {
        if (!isKubeStatus(error, 404)) throw error;
        notFound = error;
      }
    }
    throw notFound;
  }

  /** `networking.istio.io/v1 (or v1alpha3)`, for messages. */
  describe(cluster: string | undefined): string {
    const known = this.served.get(cluster ?? '');
    return known ? `${this.group}/${known}` : `${this.group}/${this.versions.join(' or ')}`;
  }
}
