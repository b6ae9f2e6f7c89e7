import { VERDICT_EVENT_PATTERN } from '../contract/event-catalog.js';
import { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import { DEADLINE_ANNOTATION } from '../lambdas/core/normalize/notification-body.js';
import { type CanaryRolloutOptions, PROMOTE_ANNOTATION } from '../sim/argo-cluster.js';
import type { CanaryStep } from '../sim/argo-driver.js';
import { FAILED_UNLESS_ABORTED } from './expected-verdicts.js';
import type { Scenario } from './scenarios.js';
import type { World } from './world.js';

/**
 * The mesh and gateway routers' field cases (issue 7), each through the same pipeline as the ALB
 * scenarios: Argo keeps the Rollout (trafficRouting.istio / .ambassador) and writes the weights
 * into the VirtualService or the canary Mapping in kube-sim itself; verify reads them with its
 * own EKS token (get virtualservices / mappings, list endpointslices for the in-mesh split).
 *
 * The kube-sim answers at once and nothing in these scenarios changes by waiting, so each Rollout
 * carries `rollout-verifier.io/deadline-seconds: "1"`: a Failed verdict comes after 1 s instead of
 * the demo's 3 s (which leaves room for ELBv2 throttling the mesh routers never meet).
 */

const REPLICAS = 4;
const STEPS: CanaryStep[] = [{ setWeight: 20 }, { pause: {} }];
const MESH_DEADLINE = { [DEADLINE_ANNOTATION]: '1' };

/** The rollouts whose findings the timeline spells out, one line per finding, per world. */
const explained = new WeakMap<World, Set<string>>();

/**
 * One timeline line per finding, with its whole message, right under the verdict line: a second
 * rule on the verdict pattern, next to the demo's own collector (nothing in the pipeline changes).
 */
function explainFindings(world: World, rollout: string): void {
  let rollouts = explained.get(world);
  if (!rollouts) {
    const watched = new Set<string>();
    rollouts = watched;
    explained.set(world, watched);
    world.bus.addRule({
      name: 'demo-explain-findings',
      pattern: VERDICT_EVENT_PATTERN,
      target: async (event) => {
        const verdict = VerdictEventDetail.parse(event.detail);
        const key = `${verdict.rollout.namespace}/${verdict.rollout.name}`;
        if (!watched.has(key)) return;
        for (const finding of verdict.findings)
          world.note(key, `  finding ${finding.code}: ${finding.message}`);
      },
    });
  }
  rollouts.add(rollout);
}

async function meshRollout(world: World, options: CanaryRolloutOptions): Promise<void> {
  explainFindings(world, `${options.namespace ?? 'shop'}/${options.name}`);
  world.canaryRollout({ ...options, annotations: { ...MESH_DEADLINE, ...options.annotations } });
  await world.settle();
}

export const MESH_SCENARIOS: Scenario[] = [
  {
    name: 'Istio: healthy host-split canary 20, promoted by the verifier',
    rollout: 'shop/reviews',
    // setWeight 20 (promoted at the pause), then the completed rollout at canary 0 / stable 100
    expected: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: ['promoted'],
    run: (world) =>
      meshRollout(world, {
        name: 'reviews',
        replicas: REPLICAS,
        steps: STEPS,
        annotations: { [PROMOTE_ANNOTATION]: 'true' },
        istio: {
          httpRoutes: ['primary'],
          routes: ['primary'],
          gateways: ['istio-system/public-gateway', 'mesh'],
        },
      }),
  },
  {
    name: 'Istio #3884: the only HTTP route is named, the rollout names none → aborted',
    rollout: 'shop/ratings',
    // Failed at setWeight 20 (the route never left 0 / 100); the abort's 0 / 100 is what it shows
    expected: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
    expectedActions: ['aborted'],
    expectedFindings: ['WeightMismatch'],
    run: (world) =>
      meshRollout(world, {
        name: 'ratings',
        replicas: REPLICAS,
        steps: STEPS,
        istio: { httpRoutes: ['primary'], controllerBeforeV19: true },
      }),
  },
  {
    name: 'Istio: a second HTTP route, none named → "ambiguous: name the routes", abort stuck',
    rollout: 'shop/details',
    // Failed at setWeight 20; the callback sets status.abort, but Argo (v1.9) finds the Rollout
    // InvalidSpec with two unnamed routes: no abort reconciled, no on-rollout-aborted, no 2nd verdict
    // the abort is never carried out (InvalidSpec): the pause's verification stays Failed
    expected: ['Succeeded', 'Failed', 'Failed'],
    expectedActions: ['aborted'],
    expectedFindings: ['AmbiguousRoutes'],
    run: (world) =>
      meshRollout(world, {
        name: 'details',
        replicas: REPLICAS,
        steps: STEPS,
        istio: { routeAddedAfterStep: 0 },
      }),
  },
  {
    name: 'Istio mesh bypass: VirtualService bound only to the ingress gateway → aborted',
    rollout: 'shop/pricing',
    // setWeight 10 with 1 canary pod next to 4 stable ones: in-mesh callers get 1 of 5 (20 %). After
    // the abort the gateway route is at 0 / 100, but the canary pod stays ready (abortScaleDownDelay):
    // in-mesh callers still reach it, so the aborted state is Failed too (the callback leaves it).
    // updated; setWeight 20 and its pause Failed; the aborted rollout still bypassed by sidecars
    expected: ['Succeeded', 'Failed', 'Failed', 'Failed'],
    expectedActions: ['aborted'],
    expectedFindings: ['MeshBypass'],
    run: (world) =>
      meshRollout(world, {
        name: 'pricing',
        replicas: REPLICAS,
        steps: [{ setWeight: 10 }, { pause: {} }],
        istio: { gateways: ['istio-system/public-gateway'] },
      }),
  },
  {
    name: 'Ambassador: healthy canary Mapping (scheme, namespace, port kept), promoted',
    rollout: 'shop/quote',
    // setWeight 20 (promoted at the pause), then the completed rollout: Argo deletes the canary Mapping
    expected: ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: ['promoted'],
    run: (world) =>
      meshRollout(world, {
        name: 'quote',
        replicas: REPLICAS,
        steps: STEPS,
        annotations: { [PROMOTE_ANNOTATION]: 'true' },
        ambassador: {},
      }),
  },
  {
    name: 'Ambassador #3593: the canary Mapping lost scheme and namespace → aborted',
    rollout: 'shop/shipping',
    // Failed at setWeight 20; Argo deletes the canary Mapping on abort, and 0 / 100 is verified
    expected: ['Succeeded', FAILED_UNLESS_ABORTED, FAILED_UNLESS_ABORTED, 'Succeeded'],
    expectedActions: ['aborted'],
    expectedFindings: ['CanaryMappingServiceMismatch'],
    run: (world) =>
      meshRollout(world, {
        name: 'shipping',
        replicas: REPLICAS,
        steps: STEPS,
        ambassador: { controllerDropsSchemeAndNamespace: true },
      }),
  },
  {
    name: 'Ambassador: the base Mapping does not name the stable Service → aborted',
    rollout: 'shop/invoices',
    // The base Mapping still routes to the Service the app had before (billing): Argo's clone keeps it,
    // so the canary share goes to billing too. The finding is about the base Mapping, so the aborted
    // state is Failed as well (the callback leaves the already aborted Rollout alone).
    // the new revision's own verification already fails (aborted at once), then the aborted rollout
    expected: ['Failed', 'Failed'],
    expectedActions: ['aborted'],
    expectedFindings: ['StableServiceNotInMapping'],
    run: (world) =>
      meshRollout(world, {
        name: 'invoices',
        replicas: REPLICAS,
        steps: STEPS,
        ambassador: { baseService: 'https://billing.shop:8443' },
      }),
  },
];
