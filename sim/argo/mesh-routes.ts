import type { KubeObject, KubeSim } from '../kube/index.js';
import type { AmbassadorRoutingOptions, IstioRoutingOptions } from './options.js';

// ── Mesh routing: Argo itself writes the weights (rollout/trafficrouting/istio, …/ambassador) ──────

export interface MeshRollout {
  namespace: string;
  name: string;
  stableService: string;
  canaryService: string;
}

/** Argo's traffic router for a mesh: the weights go into the mesh's own objects in kube-sim. */
export interface MeshRoutes {
  /** The Rollout's `spec.strategy.canary.trafficRouting`. */
  readonly trafficRouting: Record<string, unknown>;
  /** Where the stable pods get their traffic from, for the creation note. */
  readonly description: string;
  /** Argo's SetWeight for the canary (the stable side gets the rest of 100). */
  setWeight(canaryWeight: number): void;
  /** What happens to the routing objects right after step `index`, outside Argo. */
  afterStep?(index: number): void;
  /** Argo's validation of the referenced objects: the error that makes the Rollout InvalidSpec. */
  invalidReference(): string | undefined;
}

export const ISTIO_API = 'networking.istio.io/v1';
export const AMBASSADOR_API = 'getambassador.io/v2';
/** Argo v1.9's words (rollout/trafficrouting/istio: ValidateHTTPRoutes, getHttpRouteIndexesToPatch). */
const ISTIO_AMBIGUOUS =
  'spec.http[] should be set in VirtualService and it must have exactly one route when omitting spec.strategy.canary.trafficRouting.istio.virtualService.routes';

interface HttpRouteObject {
  name?: string;
  match?: unknown[];
  route: Array<{ destination: { host: string; port?: { number: number } }; weight?: number }>;
}

/** Host-level splitting: one VirtualService named after the Rollout, routing to its two Services. */
export class IstioRoutes implements MeshRoutes {
  readonly trafficRouting: Record<string, unknown>;
  readonly description: string;
  private readonly resource: string;

  constructor(
    private readonly kube: KubeSim,
    private readonly rollout: MeshRollout,
    private readonly options: IstioRoutingOptions,
    private readonly note: (what: string) => void,
  ) {
    const { namespace, name, stableService, canaryService } = rollout;
    this.resource = `${namespace}/${name}`;
    const names = options.httpRoutes ?? [undefined];
    const http: HttpRouteObject[] = names.map((routeName) => ({
      ...(routeName ? { name: routeName } : {}),
      route: [
        { destination: { host: stableService, port: { number: 80 } }, weight: 100 },
        { destination: { host: canaryService, port: { number: 80 } }, weight: 0 },
      ],
    }));
    kube.put({
      apiVersion: ISTIO_API,
      kind: 'VirtualService',
      metadata: { name, namespace },
      spec: {
        hosts: [`${name}.example.com`, name],
        ...(options.gateways ? { gateways: options.gateways } : {}),
        http,
      },
    });
    this.trafficRouting = {
      istio: { virtualService: { name, ...(options.routes ? { routes: options.routes } : {}) } },
    };
    const gateways = options.gateways ? `gateways ${options.gateways.join(', ')}` : 'no gateways: mesh only';
    this.description = `behind VirtualService ${this.resource} (HTTP route ${http.map(label).join(', ')}; ${gateways})`;
  }

  private read(): { object: KubeObject; http: HttpRouteObject[] } {
    const object = this.kube.object(ISTIO_API, 'virtualservices', this.rollout.namespace, this.rollout.name);
    if (!object) throw new Error(`the VirtualService ${this.resource} is gone`);
    return { object, http: (object.spec as { http: HttpRouteObject[] }).http };
  }

  invalidReference(): string | undefined {
    const { http } = this.read();
    return (this.options.routes ?? []).length === 0 && http.length > 1 ? ISTIO_AMBIGUOUS : undefined;
  }

  setWeight(canaryWeight: number): void {
    const { object, http } = this.read();
    const { routes = [], controllerBeforeV19 } = this.options;
    let indexes: number[];
    if (routes.length > 0) {
      indexes = routes.map((routeName) => http.findIndex((route) => route.name === routeName));
    } else if (controllerBeforeV19) {
      // Argo < v1.9: "find index of the first empty named route"
      const unnamed = http.findIndex((route) => !route.name);
      indexes = unnamed < 0 ? [] : [unnamed];
    } else if (http.length === 1) {
      indexes = [0];
    } else {
      this.note(`Argo: cannot set the weights of VirtualService ${this.resource}: ${ISTIO_AMBIGUOUS}`);
      return;
    }
    if (indexes.length === 0) {
      this.note(
        `Argo (< v1.9): the rollout names no routes, so Argo updates the first unnamed HTTP route; VirtualService ${this.resource} has only ${http.map(label).join(', ')}: nothing is updated (argo-rollouts #3884), and Argo records canary ${canaryWeight} as set`,
      );
      return;
    }
    for (const index of indexes) {
      for (const entry of http[index]?.route ?? []) {
        if (entry.destination.host === this.rollout.canaryService) entry.weight = canaryWeight;
        if (entry.destination.host === this.rollout.stableService) entry.weight = 100 - canaryWeight;
      }
    }
    this.kube.put(object);
    this.note(
      `Argo: VirtualService ${this.resource}: HTTP route ${indexes.map((index) => label(http[index], index)).join(', ')} set to canary ${canaryWeight} / stable ${100 - canaryWeight}`,
    );
  }

  afterStep(index: number): void {
    if (this.options.routeAddedAfterStep !== index) return;
    const { object, http } = this.read();
    http.unshift({
      match: [{ uri: { prefix: '/v2/' } }],
      route: [{ destination: { host: this.rollout.stableService, port: { number: 80 } }, weight: 100 }],
    });
    this.kube.put(object);
    this.note(
      `GitOps sync: VirtualService ${this.resource} gains an unnamed HTTP route for /v2/ (to ${this.rollout.stableService}) ahead of Argo's: ${http.length} HTTP routes now, and the rollout names none`,
    );
  }
}

function label(route: HttpRouteObject | undefined, index: number): string {
  return route?.name ? `"${route.name}"` : `http[${index}] (unnamed)`;
}

/** A base Mapping `<rollout>-mapping`; Argo clones `<mapping>-canary` with the canary weight. */
export class AmbassadorRoutes implements MeshRoutes {
  readonly trafficRouting: Record<string, unknown>;
  readonly description: string;
  private readonly base: string;
  private readonly canary: string;
  private readonly baseService: string;
  private exists = false;

  constructor(
    private readonly kube: KubeSim,
    private readonly rollout: MeshRollout,
    private readonly options: AmbassadorRoutingOptions,
    private readonly note: (what: string) => void,
  ) {
    const { namespace, name, stableService } = rollout;
    this.base = `${name}-mapping`;
    this.canary = `${this.base}-canary`;
    this.baseService = options.baseService ?? `https://${stableService}.${namespace}:8443`;
    kube.put(this.mapping(this.base, this.baseService));
    this.trafficRouting = { ambassador: { mappings: [this.base] } };
    this.description = `behind Mapping ${namespace}/${this.base} (prefix /${name}/ → ${this.baseService})`;
  }

  private mapping(name: string, service: string, weight?: number): KubeObject {
    return {
      apiVersion: AMBASSADOR_API,
      kind: 'Mapping',
      metadata: { name, namespace: this.rollout.namespace },
      spec: {
        prefix: `/${this.rollout.name}/`,
        service,
        ...(weight === undefined ? {} : { weight }),
      },
    };
  }

  invalidReference(): string | undefined {
    return undefined;
  }

  /** The canary Mapping's service as Argo builds it from the base Mapping's. */
  private canaryService(): { service: string; why: string } {
    const { stableService, canaryService } = this.rollout;
    if (this.options.controllerDropsSchemeAndNamespace) {
      // Argo before the fix: `<canary>:<port>` when the service ends in a port, else `<canary>`.
      const port = this.baseService.split(':').at(-1) ?? '';
      return {
        service: /^\d+$/.test(port) ? `${canaryService}:${port}` : canaryService,
        why: ' (argo-rollouts #3593: the scheme and the namespace are dropped)',
      };
    }
    const host = new RegExp(`^([a-z][a-z0-9+.-]*://)?${stableService}(?=[.:/]|$)`, 'i');
    if (!host.test(this.baseService)) {
      return {
        service: this.baseService,
        why: ` (the base service does not name ${stableService}: nothing to replace)`,
      };
    }
    return { service: this.baseService.replace(host, `$1${canaryService}`), why: '' };
  }

  setWeight(canaryWeight: number): void {
    const where = `${this.rollout.namespace}/${this.canary}`;
    if (canaryWeight === 0) {
      if (!this.exists) return;
      this.exists = false;
      this.kube.remove(AMBASSADOR_API, 'mappings', this.rollout.namespace, this.canary);
      this.note(`Argo: canary Mapping ${where} deleted (canary weight 0)`);
      return;
    }
    const { service, why } = this.canaryService();
    this.kube.put(this.mapping(this.canary, service, canaryWeight));
    this.note(
      this.exists
        ? `Argo: canary Mapping ${where} set to weight ${canaryWeight}`
        : `Argo: canary Mapping ${where} cloned from ${this.base}: weight ${canaryWeight}, service "${service}"${why}`,
    );
    this.exists = true;
  }
}
