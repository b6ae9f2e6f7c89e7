import { z } from 'zod';
import type { KubeApi, KubeApiForCluster } from '../../cluster/kube-api.js';
import { isKubeStatus } from '../../cluster/kube-errors.js';
import { findingFromKubeError, unreachableObservation } from '../../cluster/kube-findings.js';
import { type ApiResource, ServedResource } from '../../cluster/served-resources.js';
import type { Traffic } from '../../contracts/rollout-event.js';
import type { Finding } from '../../contracts/verdict-event.js';
import type { Observation, ObservedMappingPair, ObservedRoute, TargetObserver } from '../../observation.js';

export type AmbassadorTraffic = Extract<Traffic, { router: 'ambassador' }>;

export interface AmbassadorObservationTarget {
  /** The rollout's namespace: Argo reads the base Mappings and writes the canary ones there. */
  namespace: string;
  cluster?: string;
  traffic: AmbassadorTraffic;
}

export interface AmbassadorRouterOptions {
  /**
   * API versions to read Mappings through (`group/version`), first served wins, as Argo's
   * `--ambassador-api-version` names them. Default: `getambassador.io/v2` — Argo Rollouts'
   * default, served by Ambassador 1.x and by Emissary 2.x/3.x — then `getambassador.io/v3alpha1`,
   * then `x.getambassador.io/v3alpha1`, whose kind is AmbassadorMapping (plural ambassadormappings).
   */
  apiVersions?: readonly string[];
}

export const DEFAULT_AMBASSADOR_API_VERSIONS = [
  'getambassador.io/v2',
  'getambassador.io/v3alpha1',
  'x.getambassador.io/v3alpha1',
] as const;

/** Argo's toMappingGVR: the x.getambassador.io group names its Mappings `ambassadormappings`. */
export function mappingApi(apiVersion: string): ApiResource {
  const [group = '', version = ''] = apiVersion.split('/');
  return { group, version, plural: group === 'x.getambassador.io' ? 'ambassadormappings' : 'mappings' };
}

const Mapping = z
  .object({
    spec: z
      .object({
        service: z.string().nullish(),
        weight: z.number().nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();
type Mapping = z.infer<typeof Mapping>;

/** Argo's name for the clone: the base name cut to 246 characters, then `-canary`. */
export function canaryMappingName(base: string): string {
  return `${base.slice(0, 246)}-canary`;
}

/**
 * Observes an Ambassador-routed rollout: every base Mapping the rollout names and the
 * `<name>-canary` Mapping Argo clones from it with the canary weight (deleted again at weight 0).
 * Two GETs per Mapping per observation. Ambassador weights are percentages of the traffic the
 * shared prefix receives: the canary Mapping takes its weight, the base Mapping the rest; two
 * Mappings without a weight split evenly.
 */
export class AmbassadorRouter implements TargetObserver<AmbassadorObservationTarget> {
  readonly name = 'ambassador';
  private readonly mappings: ServedResource;

  constructor(
    private readonly kubeFor: KubeApiForCluster,
    options: AmbassadorRouterOptions = {},
  ) {
    this.mappings = new ServedResource(
      (options.apiVersions ?? DEFAULT_AMBASSADOR_API_VERSIONS).map(mappingApi),
    );
  }

  async observe(target: AmbassadorObservationTarget, signal?: AbortSignal): Promise<Observation> {
    let api: KubeApi;
    try {
      api = await this.kubeFor(target.cluster);
    } catch (error) {
      const resource = target.traffic.mappings
        .map((name) => `mapping/${target.namespace}/${name}`)
        .join(', ');
      return unreachableObservation(this.name, resource, error);
    }
    const results = await Promise.all(
      target.traffic.mappings.map((name) => this.observePair(api, target, name, signal)),
    );
    const pairs = results.flatMap((result) => ('pair' in result ? [result.pair] : []));
    return {
      router: this.name,
      routes: pairs.map(routeOf),
      backends: [],
      mappings: pairs,
      problems: results.flatMap((result) => ('problem' in result ? [result.problem] : [])),
    };
  }

  private async observePair(
    api: KubeApi,
    target: AmbassadorObservationTarget,
    name: string,
    signal?: AbortSignal,
  ): Promise<{ pair: ObservedMappingPair } | { problem: Finding }> {
    const { namespace, traffic } = target;
    const resource = `mapping/${namespace}/${name}`;
    const canaryName = canaryMappingName(name);
    const canaryResource = `mapping/${namespace}/${canaryName}`;
    // The base first: it settles which API serves the rollout's Mappings before the canary's 404 means "absent".
    const base = await this.read(api, target, name, resource, signal);
    if ('problem' in base) return base;
    if (!base.mapping) {
      return {
        problem: {
          code: 'ResourceNotFound',
          resource,
          expected: 'exists',
          observed: 'NotFound',
          message: `base Mapping ${resource} does not exist (trafficRouting.ambassador.mappings names it; read as ${this.mappings.describe(target.cluster)}): Argo cannot clone a canary Mapping from it`,
        },
      };
    }
    const canary = await this.read(api, target, canaryName, canaryResource, signal, base.api);
    if ('problem' in canary) return canary;
    const pair: ObservedMappingPair = {
      resource,
      canaryResource,
      stableService: traffic.stableService,
      canaryService: traffic.canaryService,
    };
    if (base.mapping.spec?.service != null) pair.baseService = base.mapping.spec.service;
    if (base.mapping.spec?.weight != null) pair.baseWeight = base.mapping.spec.weight;
    if (canary.mapping) {
      const spec = canary.mapping.spec;
      pair.canary = {
        ...(spec?.service != null ? { service: spec.service } : {}),
        ...(spec?.weight != null ? { weight: spec.weight } : {}),
      };
    }
    return { pair };
  }

  /**
   * A Mapping (and the API that served it), `mapping: undefined` when it does not exist, or the
   * problem that kept it from view. With `through`, only that API is asked.
   */
  private async read(
    api: KubeApi,
    target: AmbassadorObservationTarget,
    name: string,
    resource: string,
    signal?: AbortSignal,
    through?: ApiResource,
  ): Promise<{ mapping: Mapping | undefined; api?: ApiResource } | { problem: Finding }> {
    try {
      const served = through
        ? { object: await this.mappings.getFrom(through, api, target.namespace, name, signal), api: through }
        : await this.mappings.get(api, target.cluster, target.namespace, name, signal);
      const parsed = Mapping.safeParse(served.object);
      if (parsed.success) return { mapping: parsed.data, api: served.api };
      const issue = parsed.error.issues[0];
      return {
        problem: {
          code: 'ObservationError',
          resource,
          expected: 'a Mapping',
          observed: 'unreadable',
          message: `${resource} is not a Mapping the verifier can read: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
        },
      };
    } catch (error) {
      if (isKubeStatus(error, 404)) return { mapping: undefined };
      return { problem: findingFromKubeError(error, resource) };
    }
  }
}

/** Weights as Ambassador applies them: canary its weight (capped to 0–100), base the rest. */
function routeOf(pair: ObservedMappingPair): ObservedRoute {
  const canaryWeight =
    pair.canary === undefined
      ? 0
      : pair.canary.weight === undefined
        ? 50
        : Math.min(100, Math.max(0, pair.canary.weight));
  return {
    resource: pair.resource,
    description: `Mapping ${pair.resource.slice('mapping/'.length)} with its canary Mapping ${pair.canaryResource.slice('mapping/'.length)}${pair.canary ? '' : ' (absent)'}`,
    destinations: [
      { resource: pair.resource, role: 'stable', weight: 100 - canaryWeight },
      { resource: pair.canaryResource, role: 'canary', weight: canaryWeight },
    ],
  };
}
