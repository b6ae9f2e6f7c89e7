import { getObject, type KubeApi } from './kube-api.js';
import { ApiNotServedError, isKubeStatus } from './kube-errors.js';
import { customObjectPath } from './paths.js';

/** One API a custom resource may be served under: group, version and plural. */
export interface ApiResource {
  group: string;
  version: string;
  plural: string;
}

export interface Served<T> {
  object: T;
  /** The API that answered: read related objects through the same one. */
  api: ApiResource;
}

/**
 * Reads a custom resource through the first of several APIs the cluster serves it under, and
 * remembers per cluster which one answered, to try it first next time. Every served version of a
 * CRD returns the same stored objects, so a 404 from one API only means "not under this one": the
 * next is tried, and only a 404 from every one means the object does not exist. RBAC is per API
 * group, so a 403 is final at once. Different groups (Ambassador's getambassador.io Mappings and
 * x.getambassador.io AmbassadorMappings) hold different objects; callers read an object's
 * companions through the API that served it (`getFrom`).
 */
export class ServedResource {
  private readonly answered = new Map<string, ApiResource>();

  constructor(readonly candidates: readonly ApiResource[]) {
    if (candidates.length === 0) throw new Error('no API given for a served resource');
  }

  /** The same group and plural under several versions, first served wins. */
  static versions(group: string, plural: string, versions: readonly string[]): ServedResource {
    return new ServedResource(versions.map((version) => ({ group, version, plural })));
  }

  async get<T>(
    api: KubeApi,
    cluster: string | undefined,
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<Served<T>> {
    const key = cluster ?? '';
    const known = this.answered.get(key);
    const order = known
      ? [known, ...this.candidates.filter((candidate) => candidate !== known)]
      : this.candidates;
    let notFound: unknown;
    const notServed: string[] = [];
    for (const candidate of order) {
      try {
        const object = await this.getFrom<T>(candidate, api, namespace, name, signal);
        this.answered.set(key, candidate);
        return { object, api: candidate };
      } catch (error) {
        if (error instanceof ApiNotServedError) {
          notServed.push(label(candidate));
          continue;
        }
        if (!isKubeStatus(error, 404)) throw error;
        notFound = error;
      }
    }
    if (notFound) throw notFound;
    throw new ApiNotServedError(
      `GET ${namespace}/${name}`,
      `the API server serves none of ${notServed.join(', ')} (each answered "404 page not found"): is the CRD installed at one of these versions?`,
    );
  }

  /** Read through one API only: a 404 then means the object does not exist. */
  getFrom<T>(
    candidate: ApiResource,
    api: KubeApi,
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<T> {
    return getObject<T>(
      api,
      customObjectPath(candidate.group, candidate.version, candidate.plural, namespace, name),
      signal,
    );
  }

  /** `networking.istio.io/v1 (or v1alpha3)`, for messages. */
  describe(cluster: string | undefined): string {
    const known = this.answered.get(cluster ?? '');
    if (known) return label(known);
    return this.candidates.map(label).join(' or ');
  }
}

const label = (candidate: ApiResource) => `${candidate.plural}.${candidate.group}/${candidate.version}`;
