import { z } from 'zod';
import { addressesOf, readServiceEndpoints } from '../../cluster/endpoints.js';
import type { KubeApi, KubeApiForCluster } from '../../cluster/kube-api.js';
import { findingFromKubeError, unreachableObservation } from '../../cluster/kube-findings.js';
import { ServedResource } from '../../cluster/served-resources.js';
import type { Traffic } from '../../contracts/rollout-event.js';
import type { Finding } from '../../contracts/verdict-event.js';
import type {
  Observation,
  ObservedMeshBypass,
  ObservedRoute,
  ObservedRouteSelection,
  ObservedSubset,
  TargetObserver,
} from '../../observation.js';
import { DestinationRule, POD_TEMPLATE_HASH_LABEL, VirtualService } from './resources.js';
import { type RouteContext, resolveHost, type ServiceRef, selectRoutes } from './routes.js';

export type IstioTraffic = Extract<Traffic, { router: 'istio' }>;

export interface IstioObservationTarget {
  /** The rollout's namespace: VirtualServices without `.<namespace>`, the DestinationRule, the Services. */
  namespace: string;
  cluster?: string;
  traffic: IstioTraffic;
  /** The canary side's pod template hash (the event's `rollout.podTemplateHash`). */
  podTemplateHash?: string;
  /** The stable side's pod template hash (the event's `rollout.stablePodTemplateHash`). */
  stablePodTemplateHash?: string;
}

export interface IstioRouterOptions {
  /**
   * API versions of networking.istio.io to read, first served wins. Default `v1` (Istio ≥ 1.22),
   * then `v1alpha3`, which every Istio release serves and Argo Rollouts uses by default
   * (`--istio-api-version`). All versions return the same stored objects.
   */
  apiVersions?: readonly string[];
}

export const DEFAULT_ISTIO_API_VERSIONS = ['v1', 'v1alpha3'] as const;
const GROUP = 'networking.istio.io';

/**
 * Observes an Istio-routed rollout through the Kubernetes API: the VirtualServices the rollout
 * names (their HTTP/TLS/TCP routes as the rollout selects them), the DestinationRule when it
 * splits by subset, and — only when no VirtualService applies to in-mesh callers — the ready
 * pods those callers reach instead. Per observation: one GET per VirtualService, one for the
 * DestinationRule, and two EndpointSlice lists in the bypass case.
 */
export class IstioRouter implements TargetObserver<IstioObservationTarget> {
  readonly name = 'istio';
  private readonly virtualServices: ServedResource;
  private readonly destinationRules: ServedResource;

  constructor(
    private readonly kubeFor: KubeApiForCluster,
    options: IstioRouterOptions = {},
  ) {
    const versions = options.apiVersions ?? DEFAULT_ISTIO_API_VERSIONS;
    this.virtualServices = ServedResource.versions(GROUP, 'virtualservices', versions);
    this.destinationRules = ServedResource.versions(GROUP, 'destinationrules', versions);
  }

  async observe(target: IstioObservationTarget, signal?: AbortSignal): Promise<Observation> {
    const { traffic, namespace } = target;
    let api: KubeApi;
    try {
      api = await this.kubeFor(target.cluster);
    } catch (error) {
      const resource = traffic.virtualServices
        .map((vs) => `virtualservice/${vs.namespace ?? namespace}/${vs.name}`)
        .join(', ');
      return unreachableObservation(this.name, resource, error);
    }

    if (traffic.virtualServices.length === 0) {
      return {
        router: this.name,
        routes: [],
        backends: [],
        problems: [
          {
            code: 'UnsupportedTrafficRouting',
            resource: `rollout/${namespace}`,
            expected: 'trafficRouting.istio.virtualService(s)',
            observed: 'none',
            message:
              'the event names no Istio VirtualService: there is no route whose weights could be verified',
          },
        ],
      };
    }

    const problems: Finding[] = [];
    const rule = traffic.destinationRule;
    const [virtualServices, destinationRule] = await Promise.all([
      Promise.all(traffic.virtualServices.map((ref) => this.readVirtualService(api, target, ref, signal))),
      rule ? this.readDestinationRule(api, target, rule.name, signal) : undefined,
    ]);

    const subsets: ObservedSubset[] = [];
    let subsetHost: ServiceRef | undefined;
    if (rule && destinationRule) {
      if ('problem' in destinationRule) problems.push(destinationRule.problem);
      else {
        const host = destinationRule.object.spec.host;
        subsetHost = host ? resolveHost(host, namespace) : undefined;
        subsets.push(...observeSubsets(target, rule, destinationRule.object));
      }
    }

    const routes: ObservedRoute[] = [];
    const routeSelections: ObservedRouteSelection[] = [];
    const read: { resource: string; gateways: string[] }[] = [];
    for (const result of virtualServices) {
      if ('problem' in result) {
        problems.push(result.problem);
        continue;
      }
      const { ref, resource, object } = result;
      const context: RouteContext = {
        resource,
        namespace: ref.namespace ?? namespace,
        rolloutNamespace: namespace,
        stableService: traffic.stableService,
        canaryService: traffic.canaryService,
        ...(rule
          ? {
              subsets: {
                canary: rule.canarySubsetName,
                stable: rule.stableSubsetName,
                ...(subsetHost ? { host: subsetHost } : {}),
              },
              ...(rule.additionalSubsetNames ? { unmanagedSubsets: rule.additionalSubsetNames } : {}),
            }
          : {}),
        ...(traffic.managedRoutes ? { managedRoutes: traffic.managedRoutes } : {}),
      };
      const selected = selectRoutes(
        object,
        { routes: ref.routes, tlsRoutes: ref.tlsRoutes, tcpRoutes: ref.tcpRoutes },
        context,
      );
      routes.push(...selected.routes);
      routeSelections.push(...selected.selections);
      read.push({ resource, gateways: object.spec.gateways ?? [] });
    }

    // In-mesh callers are covered as soon as one of the rollout's VirtualServices applies to sidecars.
    // With one unread, that cannot be told: its problem already keeps the verdict from Succeeded.
    const unbound =
      read.length > 0 &&
      read.length === virtualServices.length &&
      read.every((vs) => !appliesToMesh(vs.gateways));
    const meshBypass = unbound
      ? await this.countMeshPods(api, target, read, subsetHost, problems, signal)
      : undefined;

    return {
      router: this.name,
      routes,
      backends: [],
      routeSelections,
      subsets,
      ...(meshBypass ? { meshBypass } : {}),
      problems,
    };
  }

  private async readVirtualService(
    api: KubeApi,
    target: IstioObservationTarget,
    ref: IstioTraffic['virtualServices'][number],
    signal?: AbortSignal,
  ): Promise<{ ref: typeof ref; resource: string; object: VirtualService } | { problem: Finding }> {
    const namespace = ref.namespace ?? target.namespace;
    const resource = `virtualservice/${namespace}/${ref.name}`;
    try {
      const { object: raw } = await this.virtualServices.get(
        api,
        target.cluster,
        namespace,
        ref.name,
        signal,
      );
      const parsed = VirtualService.safeParse(raw);
      if (!parsed.success) return { problem: malformed(resource, 'VirtualService', parsed.error) };
      return { ref, resource, object: parsed.data };
    } catch (error) {
      return {
        problem: withNotFoundHint(
          findingFromKubeError(error, resource),
          `check trafficRouting.istio.virtualService(s): a VirtualService in another namespace is named <name>.<namespace>; read as ${this.virtualServices.describe(target.cluster)}`,
        ),
      };
    }
  }

  private async readDestinationRule(
    api: KubeApi,
    target: IstioObservationTarget,
    name: string,
    signal?: AbortSignal,
  ): Promise<{ object: DestinationRule } | { problem: Finding }> {
    const resource = `destinationrule/${target.namespace}/${name}`;
    try {
      const { object: raw } = await this.destinationRules.get(
        api,
        target.cluster,
        target.namespace,
        name,
        signal,
      );
      const parsed = DestinationRule.safeParse(raw);
      if (!parsed.success) return { problem: malformed(resource, 'DestinationRule', parsed.error) };
      return { object: parsed.data };
    } catch (error) {
      return {
        problem: withNotFoundHint(
          findingFromKubeError(error, resource),
          `check trafficRouting.istio.destinationRule.name: Argo reads it in the rollout's namespace; read as ${this.destinationRules.describe(target.cluster)}`,
        ),
      };
    }
  }

  /**
   * The split in-cluster callers get without a mesh-bound VirtualService: ready pods by side. The
   * stable and canary Services carry Argo's pod-template-hash selectors, so their EndpointSlices
   * tell the sides apart (an address in both — after a promotion — is stable). Without them, only
   * the DestinationRule host's total is known.
   */
  private async countMeshPods(
    api: KubeApi,
    target: IstioObservationTarget,
    virtualServices: { resource: string; gateways: string[] }[],
    subsetHost: ServiceRef | undefined,
    problems: Finding[],
    signal?: AbortSignal,
  ): Promise<ObservedMeshBypass> {
    const { namespace, traffic } = target;
    const bypass: ObservedMeshBypass = {
      resources: virtualServices.map((vs) => vs.resource),
      gateways: [...new Set(virtualServices.flatMap((vs) => vs.gateways))],
      countedFrom: [],
    };
    const read = async (service: string) => {
      const resource = `service/${namespace}/${service}`;
      try {
        return await readServiceEndpoints(api, namespace, service, { signal });
      } catch (error) {
        problems.push(findingFromKubeError(error, resource));
        return undefined;
      }
    };
    if (traffic.stableService && traffic.canaryService) {
      const [stable, canary] = await Promise.all([read(traffic.stableService), read(traffic.canaryService)]);
      bypass.countedFrom = [traffic.stableService, traffic.canaryService].map(
        (name) => `service/${namespace}/${name}`,
      );
      if (!stable || !canary) return bypass;
      const stableReady = new Set(addressesOf(stable.ready));
      const canaryOnly = addressesOf(canary.ready).filter((address) => !stableReady.has(address));
      return {
        ...bypass,
        readyPods: { total: stableReady.size + canaryOnly.length, canary: canaryOnly.length },
      };
    }
    if (subsetHost && subsetHost.namespace === namespace) {
      const all = await read(subsetHost.name);
      bypass.countedFrom = [`service/${namespace}/${subsetHost.name}`];
      return all ? { ...bypass, readyPods: { total: addressesOf(all.ready).length } } : bypass;
    }
    return bypass;
  }
}

/** No gateways means `mesh` only; otherwise `mesh` must be listed to apply to sidecars. */
export function appliesToMesh(gateways: string[]): boolean {
  return gateways.length === 0 || gateways.includes('mesh');
}

function observeSubsets(
  target: IstioObservationTarget,
  rule: NonNullable<IstioTraffic['destinationRule']>,
  object: DestinationRule,
): ObservedSubset[] {
  const sides = [
    { role: 'canary' as const, name: rule.canarySubsetName, hash: target.podTemplateHash },
    { role: 'stable' as const, name: rule.stableSubsetName, hash: target.stablePodTemplateHash },
  ];
  return sides.map(({ role, name, hash }) => {
    const subset = (object.spec.subsets ?? []).find((candidate) => candidate.name === name);
    const label = subset?.labels?.[POD_TEMPLATE_HASH_LABEL];
    return {
      resource: `destinationrule/${target.namespace}/${rule.name}#${name}`,
      role,
      present: subset !== undefined,
      ...(label !== undefined ? { podTemplateHash: label } : {}),
      ...(hash !== undefined ? { expectedPodTemplateHash: hash } : {}),
    };
  });
}

function malformed(resource: string, kind: string, error: z.ZodError): Finding {
  const issue = error.issues[0];
  return {
    code: 'ObservationError',
    resource,
    expected: `a ${kind}`,
    observed: 'unreadable',
    message: `${resource} is not a ${kind} the verifier can read: ${issue ? `${issue.path.join('.')}: ${issue.message}` : z.prettifyError(error)}`,
  };
}

export function withNotFoundHint(finding: Finding, hint: string): Finding {
  return finding.code === 'ResourceNotFound'
    ? { ...finding, message: `${finding.message} (${hint})` }
    : finding;
}
