import type { ArgoVersion } from '../argo/controller.js';
import type { KubeObject } from '../kube/client.js';
import { waitFor } from '../runtime/processes.js';
import { allSucceeded, failedThenAborted } from './judges.js';
import {
  albIngress,
  ambassadorMapping,
  destinationRule,
  namespace,
  PROMOTE_ON_SUCCESS,
  rollout,
  service,
  virtualService,
} from './objects.js';
import type { LabScenario, ScenarioContext } from './runner.js';

const short = (version: ArgoVersion) => version.replace(/[v.]/g, '');
const PROMOTED_STEPS = [{ setWeight: 20 }, { pause: {} }];

/** An ALB canary: stable/canary Services, the Ingress through Argo's action annotation. */
function albCanary(
  name: string,
  title: string,
  version: ArgoVersion,
  canary: Record<string, unknown>,
  extra: Partial<LabScenario> & Pick<LabScenario, 'judge'>,
  annotations: Record<string, string> = PROMOTE_ON_SUCCESS,
): LabScenario {
  const ns = `${name}-${short(version)}`;
  const app = 'web';
  return {
    name: title,
    argoVersion: version,
    router: 'alb',
    namespace: ns,
    rollout: app,
    watch: { ingress: app },
    canarySides: { stable: `${app}-stable`, canary: `${app}-canary` },
    objects: () => [
      namespace(ns),
      service(ns, `${app}-stable`, app),
      service(ns, `${app}-canary`, app),
      albIngress(ns, app, `${app}-stable`, { useAnnotation: true }),
      rollout(
        ns,
        app,
        {
          canary: {
            stableService: `${app}-stable`,
            canaryService: `${app}-canary`,
            trafficRouting: { alb: { ingress: app, servicePort: 80 } },
            ...canary,
          },
        },
        { annotations },
      ),
    ],
    ...extra,
  };
}

/** Waits until the rollout is paused at a step and the verifier has nothing left to do. */
async function pausedAndQuiet(context: ScenarioContext): Promise<void> {
  await waitFor(
    `${context.namespace}/${context.rollout} paused`,
    async () => {
      const live = await context.kube.get(
        'argoproj.io/v1alpha1',
        'Rollout',
        context.rollout,
        context.namespace,
      );
      const conditions = (live?.status?.pauseConditions ?? []) as unknown[];
      return conditions.length > 0;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  await context.lab.verifier.quiet();
}

async function abortAsUser(context: ScenarioContext): Promise<void> {
  context.note('the operator aborts (kubectl argo rollouts abort: status.abort=true)');
  await context.kube.mergePatch(
    'argoproj.io/v1alpha1',
    'Rollout',
    context.rollout,
    context.namespace,
    { status: { abort: true } },
    'status',
  );
}

/** An ALB canary whose load balancer controller stops reconciling before the new revision. */
function frozenAlbCanary(name: string, title: string, annotations?: Record<string, string>): LabScenario {
  return albCanary(
    name,
    title,
    'v1.9.1',
    { steps: PROMOTED_STEPS },
    {
      judge: failedThenAborted('WeightMismatch'),
      ends: 'aborted',
      loadBalancerControllerStopped: true,
      async drive(context) {
        context.note('the load balancer controller stops reconciling this namespace');
        context.lab.loadBalancerController.freeze(context.namespace);
        await context.newRevision();
      },
    },
    annotations,
  );
}

function istioScenario(
  name: string,
  title: string,
  version: ArgoVersion,
  options: { subsets?: boolean; namedRoutes: boolean },
  judge: LabScenario['judge'],
  ends: LabScenario['ends'] = 'healthy',
): LabScenario {
  const ns = `${name}-${short(version)}`;
  const app = 'reviews';
  const destination = (side: 'stable' | 'canary', weight: number) =>
    options.subsets
      ? { destination: { host: app, subset: side }, weight }
      : { destination: { host: `${app}-${side}` }, weight };
  const objects: KubeObject[] = [namespace(ns)];
  if (options.subsets)
    objects.push(service(ns, app, app), destinationRule(ns, app, app, ['stable', 'canary']));
  else objects.push(service(ns, `${app}-stable`, app), service(ns, `${app}-canary`, app));
  objects.push(
    virtualService(ns, app, [
      { name: 'primary', route: [destination('stable', 100), destination('canary', 0)] },
    ]),
    rollout(
      ns,
      app,
      {
        canary: {
          ...(options.subsets ? {} : { stableService: `${app}-stable`, canaryService: `${app}-canary` }),
          trafficRouting: {
            istio: {
              virtualService: options.namedRoutes ? { name: app, routes: ['primary'] } : { name: app },
              ...(options.subsets
                ? { destinationRule: { name: app, canarySubsetName: 'canary', stableSubsetName: 'stable' } }
                : {}),
            },
          },
          steps: PROMOTED_STEPS,
        },
      },
      { annotations: PROMOTE_ON_SUCCESS },
    ),
  );
  return {
    name: title,
    argoVersion: version,
    router: 'istio',
    namespace: ns,
    rollout: app,
    watch: { virtualService: app, ...(options.subsets ? { destinationRule: app } : {}) },
    canarySides: options.subsets
      ? { stable: 'stable', canary: 'canary' }
      : { stable: `${app}-stable`, canary: `${app}-canary` },
    objects: () => objects,
    judge,
    ends,
  };
}

/** argo-rollouts#3593: the base Mapping names its service as `https://<svc>.<ns>:8443`. */
function ambassadorScenario(
  version: ArgoVersion,
  judge: LabScenario['judge'],
  ends: LabScenario['ends'],
): LabScenario {
  const ns = `ambassador-3593-${short(version)}`;
  const app = 'quote';
  return {
    name: `Ambassador #3593: base Mapping https://${app}.${ns}:8443, canary 20 (${version})`,
    argoVersion: version,
    router: 'ambassador',
    namespace: ns,
    rollout: app,
    watch: { mappings: true },
    canarySides: { stable: app, canary: `${app}-canary` },
    objects: () => [
      namespace(ns),
      service(ns, app, app, 8443),
      service(ns, `${app}-canary`, app, 8443),
      ambassadorMapping(ns, app, '/quote/', `https://${app}.${ns}:8443`),
      rollout(
        ns,
        app,
        {
          canary: {
            stableService: app,
            canaryService: `${app}-canary`,
            trafficRouting: { ambassador: { mappings: [app] } },
            steps: PROMOTED_STEPS,
          },
        },
        { annotations: PROMOTE_ON_SUCCESS },
      ),
    ],
    judge,
    ends,
  };
}

function pingPong(version: ArgoVersion): LabScenario {
  const ns = `alb-pingpong-${short(version)}`;
  const app = 'web';
  return {
    name: `ALB ping-pong canary 20, timed pause (${version})`,
    argoVersion: version,
    router: 'alb',
    namespace: ns,
    rollout: app,
    watch: { ingress: app },
    objects: () => [
      namespace(ns),
      service(ns, `${app}-root`, app),
      service(ns, `${app}-ping`, app),
      service(ns, `${app}-pong`, app),
      albIngress(ns, app, `${app}-root`, { useAnnotation: true }),
      rollout(
        ns,
        app,
        {
          canary: {
            pingPong: { pingService: `${app}-ping`, pongService: `${app}-pong` },
            trafficRouting: { alb: { ingress: app, servicePort: 80, rootService: `${app}-root` } },
            // A timed pause: the verifier refuses ping-pong today (issue 11), so no promote would come.
            steps: [{ setWeight: 20 }, { pause: { duration: '20s' } }],
          },
        },
        {},
      ),
    ],
    judge: allSucceeded(1),
  };
}

function blueGreen(version: ArgoVersion): LabScenario {
  const ns = `alb-bluegreen-${short(version)}`;
  const app = 'web';
  return {
    name: `ALB blue-green switch, auto-promoted (${version})`,
    argoVersion: version,
    router: 'alb',
    namespace: ns,
    rollout: app,
    watch: { ingress: app },
    objects: () => [
      namespace(ns),
      service(ns, `${app}-active`, app),
      service(ns, `${app}-preview`, app),
      albIngress(ns, app, `${app}-active`, { useAnnotation: false }),
      rollout(
        ns,
        app,
        {
          blueGreen: {
            activeService: `${app}-active`,
            previewService: `${app}-preview`,
            autoPromotionEnabled: true,
          },
        },
        { annotations: { 'rollout-verifier.io/alb-ingresses': app } },
      ),
    ],
    judge: allSucceeded(1),
  };
}

/** The scenarios, per Argo Rollouts release (issue 14). */
export function labScenarios(): LabScenario[] {
  const v191 = 'v1.9.1' as const;
  return [
    albCanary(
      'alb-canary',
      'ALB canary 20 → 50 → 100, promoted by the callback (v1.9.1)',
      v191,
      {
        steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
      },
      { judge: allSucceeded(2) },
    ),
    frozenAlbCanary(
      'alb-frozen',
      'ALB weights never applied (load balancer controller stopped) → Failed → aborted by Argo (v1.9.1)',
    ),
    frozenAlbCanary(
      'alb-frozen-nopromote',
      'ALB weights never applied, no promote-on-success: Failed at the pause → aborted by Argo (v1.9.1)',
      {},
    ),
    albCanary(
      'alb-experiment',
      'ALB canary with a weighted experiment step (v1.9.1)',
      v191,
      {
        steps: [
          { setWeight: 20 },
          { pause: {} },
          {
            experiment: {
              duration: '20s',
              templates: [{ name: 'preview', specRef: 'canary', weight: 10, service: {} }],
            },
          },
          { setWeight: 40 },
          { pause: {} },
        ],
      },
      { judge: allSucceeded(2) },
    ),
    albCanary(
      'alb-canaryscale',
      'ALB canary with setCanaryScale (replicas 1, then matchTrafficWeight) (v1.9.1)',
      v191,
      {
        steps: [
          { setCanaryScale: { replicas: 1 } },
          { setWeight: 25 },
          { pause: {} },
          { setCanaryScale: { matchTrafficWeight: true } },
          { setWeight: 50 },
          { pause: {} },
        ],
      },
      { judge: allSucceeded(2) },
    ),
    albCanary(
      'alb-dynamic',
      'ALB canary 50 with dynamicStableScale, aborted by the operator (v1.9.1)',
      v191,
      { dynamicStableScale: true, steps: [{ setWeight: 50 }, { pause: {} }] },
      {
        judge: allSucceeded(2),
        ends: 'aborted',
        async drive(context) {
          await context.newRevision();
          await pausedAndQuiet(context);
          await abortAsUser(context);
        },
      },
      {},
    ),
    pingPong(v191),
    blueGreen(v191),
    istioScenario(
      'istio-host',
      'Istio host-split canary 20, promoted (v1.9.1)',
      v191,
      { namedRoutes: true },
      allSucceeded(1),
    ),
    istioScenario(
      'istio-subset',
      'Istio subset-split canary 20, promoted (v1.9.1)',
      v191,
      { subsets: true, namedRoutes: true },
      allSucceeded(1),
    ),
    istioScenario(
      'istio-3884',
      'Istio #3884: one named HTTP route, the Rollout names none (v1.9.1)',
      v191,
      { namedRoutes: false },
      allSucceeded(1),
    ),
    ambassadorScenario(v191, allSucceeded(1), 'healthy'),
    albCanary(
      'alb-canary',
      'ALB canary 20 → 100, promoted by the callback (v1.8.2)',
      'v1.8.2',
      { steps: PROMOTED_STEPS },
      { judge: allSucceeded(1) },
    ),
    istioScenario(
      'istio-3884',
      'Istio #3884: one named HTTP route, the Rollout names none (v1.8.2)',
      'v1.8.2',
      { namedRoutes: false },
      failedThenAborted('WeightMismatch'),
      'aborted',
    ),
    albCanary(
      'alb-canary',
      'ALB canary 20 → 100, promoted by the callback (v1.7.2)',
      'v1.7.2',
      { steps: PROMOTED_STEPS },
      { judge: allSucceeded(1) },
    ),
    // Issue 14 expects #3593 on v1.7.2, but v1.7.0 already carries its fix (see ARGO_VERSIONS):
    // the real v1.7.2 keeps https://…:8443 in the canary Mapping, so every verdict must be Succeeded.
    ambassadorScenario('v1.7.2', allSucceeded(1), 'healthy'),
    ambassadorScenario('v1.6.6', failedThenAborted('CanaryMappingServiceMismatch'), 'aborted'),
  ];
}
