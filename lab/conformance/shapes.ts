/**
 * What a notification body and a route state say, without names, uids, hashes or times: the
 * material the demo's drivers (sim/) must share with the real controllers the lab runs. A lab run
 * records these shapes (lab/conformance/record.ts) and a test holds the drivers to them
 * (test/e2e/conformance.test.ts), so the fast demo stays honest.
 */

/** A notification body as the verifier reads it: the fields that decide its expected state. */
export interface NotificationShape {
  trigger: string;
  /** The body carried a `status` at all (the first `on-rollout-updated` of a Rollout does not). */
  hasStatus: boolean;
  phase?: string;
  currentStepIndex?: number;
  /** `status.canary.weights`, canary / stable. */
  weights?: { canary: number; stable: number };
  pauseReasons: string[];
  controllerPause: boolean;
  abort: boolean;
  /** `status.stableRS` equals `status.currentPodHash`: the revision the body is about is the stable one. */
  currentIsStable: boolean;
}

type Json = Record<string, unknown>;

const object = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;

export function notificationShape(body: unknown): NotificationShape {
  const rollout = object(object(body)?.rollout) ?? {};
  const status = object(rollout.status);
  const weights = object(object(status?.canary)?.weights);
  const canary = object(weights?.canary)?.weight;
  const stable = object(weights?.stable)?.weight;
  const pauses = Array.isArray(status?.pauseConditions) ? (status.pauseConditions as unknown[]) : [];
  return {
    trigger: String(object(body)?.trigger ?? ''),
    hasStatus: status !== undefined && Object.keys(status).length > 0,
    ...(typeof status?.phase === 'string' ? { phase: status.phase } : {}),
    ...(typeof status?.currentStepIndex === 'number' ? { currentStepIndex: status.currentStepIndex } : {}),
    ...(typeof canary === 'number' && typeof stable === 'number' ? { weights: { canary, stable } } : {}),
    pauseReasons: pauses.map((condition) => String(object(condition)?.reason ?? '')).sort(),
    controllerPause: status?.controllerPause === true,
    abort: status?.abort === true,
    currentIsStable: status?.stableRS !== undefined && status.stableRS === status.currentPodHash,
  };
}

/**
 * Consecutive repeats dropped: the real controller posts the same body again when its webhook
 * client times out, and samples of an unchanged route state repeat.
 */
export function collapse<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    const previous = out.at(-1);
    if (previous === undefined || JSON.stringify(previous) !== JSON.stringify(item)) out.push(item);
  }
  return out;
}

/** The canary / stable weights the routes carry at one moment. */
export interface RouteWeights {
  canary: number;
  stable: number;
}

/**
 * The split of the listener rules the load balancer controller wrote (the first rule forwarding to
 * two target groups). Its target groups are named `k8s-<namespace>-<service>-<hash>` with each part
 * cut to 8 characters of [a-z0-9]: the sides are told apart by their Services' names.
 */
export function albListenerWeights(
  listenerRules: unknown,
  services: { stable: string; canary: string },
): RouteWeights | undefined {
  const rules = (Array.isArray(listenerRules) ? listenerRules : []) as Json[];
  const groups = rules
    .flatMap((rule) => (rule.actions ?? []) as Json[])
    .map((action) => (object(action.ForwardConfig)?.TargetGroups ?? []) as Json[])
    .find((targetGroups) => targetGroups.length >= 2);
  if (!groups) return undefined;
  const part = (service: string) => service.replace(/[^a-z0-9]/g, '').slice(0, 8);
  const weightOf = (service: string) =>
    Number(
      groups.find((group) => String(group.TargetGroupArn).split('/')[1]?.split('-')[2] === part(service))
        ?.Weight ?? 0,
    );
  return { canary: weightOf(services.canary), stable: weightOf(services.stable) };
}

/** The split of an Istio VirtualService's first HTTP route, by destination host or subset. */
export function virtualServiceWeights(
  spec: unknown,
  sides: { stable: string; canary: string },
): RouteWeights | undefined {
  const routes = (object(spec)?.http ?? []) as Json[];
  const destinations = ((routes[0]?.route ?? []) as Json[]).map((route) => ({
    side: object(route.destination)?.subset ?? object(route.destination)?.host,
    weight: Number(route.weight ?? 0),
  }));
  if (destinations.length === 0) return undefined;
  const weightOf = (side: string) =>
    destinations.filter((destination) => destination.side === side).reduce((sum, d) => sum + d.weight, 0);
  return { canary: weightOf(sides.canary), stable: weightOf(sides.stable) };
}

/** The weight of Ambassador's `<base>-canary` Mapping (absent: no canary Mapping, all to the base). */
export function mappingWeights(mappings: Array<{ name: string; spec: unknown }>, base: string): RouteWeights {
  const canary = mappings.find((mapping) => mapping.name === `${base}-canary`);
  const weight = Number(object(canary?.spec)?.weight ?? 0);
  return { canary: weight, stable: 100 - weight };
}

/** What a lab run recorded for one scenario, and what the demo's drivers must reproduce. */
export interface ConformanceRecord {
  /** The lab scenario's title. */
  scenario: string;
  argoVersion: string;
  router: 'alb' | 'istio' | 'ambassador';
  /** The lab's namespace for the scenario (names differ in the demo; shapes do not). */
  namespace: string;
  /** The Rollout's canary strategy as the lab created it, status aside: steps, trafficRouting… */
  canary: Record<string, unknown>;
  /** The load balancer controller stopped reconciling before the new revision (weights never applied). */
  loadBalancerControllerStopped: boolean;
  /** The Rollout asked the callback to promote at each pause (rollout-verifier.io/promote-on-success). */
  promoteOnSuccess: boolean;
  /** Where the shapes came from: the lab run and the real components' versions. */
  recordedFrom: { run: string; components: Record<string, unknown> };
  notifications: NotificationShape[];
  routes: RouteWeights[];
}
