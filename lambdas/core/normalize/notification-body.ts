import { z } from 'zod';
import { ROLLOUT_DETAIL_TYPES, type RolloutTrigger } from '../../../contract/event-catalog.js';
import { KubernetesName, KubernetesNamespace } from '../contracts/rollout-event.js';

/**
 * The body each of our notification templates POSTs:
 * `{"trigger": "<trigger-name>", "rollout": {{ toJson .rollout }}}`.
 *
 * Only the part of the Rollout the normalizer reads is described; every object is `.loose()`
 * so the rest of the Rollout (and fields of newer Argo versions) passes through untouched.
 * Optional fields accept `null` as "absent": Go serializes nil pointers that way in some paths.
 *
 * The snapshot is taken BEFORE the controller persists the status change that caused the
 * event (see DESIGN.md, "Facts that shape the code"); this schema does not interpret it,
 * expected-state.ts does.
 */

export const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';
export const DEADLINE_ANNOTATION = 'rollout-verifier.io/deadline-seconds';
/** Blue-green names no ingress in its spec: these tell the verifier which ALB serves the active Service. */
export const BLUE_GREEN_INGRESSES_ANNOTATION = 'rollout-verifier.io/alb-ingresses';
export const BLUE_GREEN_SERVICE_PORT_ANNOTATION = 'rollout-verifier.io/alb-service-port';

const TRIGGERS = Object.keys(ROLLOUT_DETAIL_TYPES) as [RolloutTrigger, ...RolloutTrigger[]];

const Int = z.number().int();
const Count = Int.nonnegative();
/** `intstr.IntOrString` (pause durations, maxSurge…). */
const IntOrString = z.union([Int, z.string()]);

/** Absent or null objects parse as `{}`, so their required members report their own paths. */
function orEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

const Trigger = z.enum(TRIGGERS, {
  error: (issue) =>
    `${issue.input === undefined ? 'is required: ' : 'must be '}one of ${TRIGGERS.join(', ')} (hard-code it in each notification template)`,
});

const Annotations = z
  .object({
    [REVISION_ANNOTATION]: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .regex(/^\d+$/, 'must be a decimal integer, e.g. "3"')
      .transform(Number)
      .pipe(Count.max(Number.MAX_SAFE_INTEGER, 'is too large')),
    [DEADLINE_ANNOTATION]: z
      .string('must be a string of whole seconds, e.g. "60"')
      .regex(/^\d+$/, 'must be whole seconds between 1 and 900, e.g. "60"')
      .transform(Number)
      .pipe(Int.min(1, 'must be between 1 and 900 seconds').max(900, 'must be between 1 and 900 seconds'))
      .optional(),
    [BLUE_GREEN_INGRESSES_ANNOTATION]: z
      .string('must be a comma-separated list of Ingress names')
      .transform((value) =>
        value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      )
      .pipe(z.array(KubernetesName).min(1, 'must name at least one Ingress, e.g. "checkout"'))
      .optional(),
    [BLUE_GREEN_SERVICE_PORT_ANNOTATION]: z
      .string('must be a port number as a string, e.g. "80"')
      .regex(/^\d+$/, 'must be a port number, e.g. "80"')
      .transform(Number)
      .pipe(Int.min(1, 'must be a port between 1 and 65535').max(65535, 'must be a port between 1 and 65535'))
      .optional(),
  })
  .loose();

const Metadata = z
  .object({
    name: KubernetesName,
    namespace: KubernetesNamespace,
    uid: z.string().min(1, 'must not be empty'),
    resourceVersion: z.string().nullish(),
    generation: Count.nullish(),
    // Missing annotations are reported at the revision annotation, the one that is required.
    annotations: orEmpty(Annotations),
  })
  .loose();

// ---- spec.strategy.canary.steps ---------------------------------------------------------------

const PauseStep = z.object({ duration: IntOrString.nullish() }).loose();

const SetCanaryScaleStep = z
  .object({
    replicas: Count.nullish(),
    weight: Count.nullish(),
    matchTrafficWeight: z.boolean().nullish(),
  })
  .loose();

const ExperimentStep = z
  .object({
    duration: IntOrString.nullish(),
    templates: z
      .array(
        z
          .object({
            name: z.string(),
            replicas: Count.nullish(),
            weight: Count.nullish(),
            /** `service.name`: the Service the experiment creates for the template (else the ReplicaSet's name). */
            service: z.object({ name: z.string().nullish() }).loose().nullish(),
          })
          .loose(),
      )
      .nullish(),
  })
  .loose();

const LooseObject = z.object({}).loose();

export const CanaryStep = z
  .object({
    setWeight: Count.nullish(),
    pause: PauseStep.nullish(),
    setCanaryScale: SetCanaryScaleStep.nullish(),
    analysis: LooseObject.nullish(),
    experiment: ExperimentStep.nullish(),
    setHeaderRoute: LooseObject.nullish(),
    setMirrorRoute: LooseObject.nullish(),
    plugin: LooseObject.nullish(),
  })
  .loose();
export type CanaryStep = z.infer<typeof CanaryStep>;

// ---- spec.strategy.canary.trafficRouting ------------------------------------------------------

const AlbRouting = z
  .object({
    ingress: KubernetesName.nullish(),
    ingresses: z.array(KubernetesName).nullish(),
    rootService: KubernetesName.nullish(),
    servicePort: Int.min(1).max(65535),
    annotationPrefix: z.string().nullish(),
  })
  .loose();

/** `virtualService(s)[].tlsRoutes` / `.tcpRoutes` entries (CRD v1.9.1: port and, for TLS, sniHosts). */
const L4RouteRef = z
  .object({
    port: Int.min(0).max(65535).nullish(),
    sniHosts: z.array(z.string().max(253)).max(100).nullish(),
  })
  .loose();

const IstioVirtualService = z
  .object({
    name: z.string().min(1),
    routes: z.array(z.string().max(253)).max(100).nullish(),
    tlsRoutes: z.array(L4RouteRef).max(100).nullish(),
    tcpRoutes: z.array(L4RouteRef).max(100).nullish(),
  })
  .loose();

const IstioRouting = z
  .object({
    virtualService: IstioVirtualService.nullish(),
    virtualServices: z.array(IstioVirtualService).nullish(),
    destinationRule: z
      .object({
        name: KubernetesName,
        canarySubsetName: z.string().min(1),
        stableSubsetName: z.string().min(1),
        additionalSubsetNames: z.array(z.string().max(253)).max(100).nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();

const AmbassadorRouting = z.object({ mappings: z.array(KubernetesName) }).loose();

/** Routers Argo supports that this project does not verify; named in the derivation when used. */
export const UNSUPPORTED_ROUTERS = ['nginx', 'smi', 'appMesh', 'traefik', 'apisix', 'plugins'] as const;

const TrafficRouting = z
  .object({
    /** The sum weights are expressed against (int32 in the CRD; default 100). */
    maxTrafficWeight: Int.min(1).max(2_147_483_647).nullish(),
    /** Header and mirror routes (setHeaderRoute, setMirrorRoute steps) Argo manages by name. */
    managedRoutes: z
      .array(z.object({ name: z.string().min(1).max(253) }).loose())
      .max(100)
      .nullish(),
    alb: AlbRouting.nullish(),
    istio: IstioRouting.nullish(),
    ambassador: AmbassadorRouting.nullish(),
    nginx: LooseObject.nullish(),
    smi: LooseObject.nullish(),
    appMesh: LooseObject.nullish(),
    traefik: LooseObject.nullish(),
    apisix: LooseObject.nullish(),
    plugins: LooseObject.nullish(),
  })
  .loose();

/** `canary.replicaProgressThreshold` (v1.9): weights move on once this much of the canary is available. */
const ReplicaProgressThreshold = z
  .object({
    type: z.enum(['Percent', 'Pods'], 'must be "Percent" or "Pods"'),
    value: Int,
  })
  .loose();
export type ReplicaProgressThreshold = z.infer<typeof ReplicaProgressThreshold>;

export const CanaryStrategy = z
  .object({
    canaryService: KubernetesName.nullish(),
    stableService: KubernetesName.nullish(),
    /** Two Services that swap the stable and canary roles at each promotion (ALB, Istio). */
    pingPong: z.object({ pingService: KubernetesName, pongService: KubernetesName }).loose().nullish(),
    steps: z.array(CanaryStep).nullish(),
    trafficRouting: TrafficRouting.nullish(),
    dynamicStableScale: z.boolean().nullish(),
    minPodsPerReplicaSet: Count.nullish(),
    replicaProgressThreshold: ReplicaProgressThreshold.nullish(),
  })
  .loose();
export type CanaryStrategy = z.infer<typeof CanaryStrategy>;

const BlueGreenStrategy = z
  .object({
    activeService: KubernetesName,
    previewService: KubernetesName.nullish(),
  })
  .loose();

const Spec = z
  .object({
    replicas: Count.nullish(),
    paused: z.boolean().nullish(),
    strategy: z
      .object({
        canary: CanaryStrategy.nullish(),
        blueGreen: BlueGreenStrategy.nullish(),
      })
      .loose(),
  })
  .loose();

// ---- status ------------------------------------------------------------------------------------

const WeightDestination = z
  .object({
    // int32 in the CRD; not range-checked here (old controllers wrote 100 − weight even with
    // maxTrafficWeight 1000): expected-state.ts ignores values outside the verifier's range.
    weight: Int,
    podTemplateHash: z.string().nullish(),
    serviceName: z.string().nullish(),
  })
  .loose();

const AwsResourceRef = z
  .object({
    arn: z.string(),
    name: z.string().nullish(),
    fullName: z.string().nullish(),
  })
  .loose();

export const AlbStatus = z
  .object({
    ingress: z.string().nullish(),
    loadBalancer: AwsResourceRef.nullish(),
    canaryTargetGroup: AwsResourceRef.nullish(),
    stableTargetGroup: AwsResourceRef.nullish(),
  })
  .loose();
export type AlbStatus = z.infer<typeof AlbStatus>;

const Status = z
  .object({
    currentStepIndex: Count.nullish(),
    currentPodHash: z.string().nullish(),
    stableRS: z.string().nullish(),
    abort: z.boolean().nullish(),
    phase: z.string().nullish(),
    pauseConditions: z
      .array(z.object({ reason: z.string(), startTime: z.string().nullish() }).loose())
      .nullish(),
    controllerPause: z.boolean().nullish(),
    promoteFull: z.boolean().nullish(),
    /** A string in the CRD (`"7"`); a number is tolerated and kept as its decimal string. */
    observedGeneration: z
      .union([z.string(), Int])
      .transform((value) => String(value))
      .nullish(),
    canary: z
      .object({
        weights: z
          .object({
            canary: WeightDestination,
            stable: WeightDestination,
            additional: z.array(WeightDestination).nullish(),
            verified: z.boolean().nullish(),
          })
          .loose()
          .nullish(),
        currentExperiment: z.string().nullish(),
        /** Which ping-pong Service is stable: `ping`, `pong`, or empty (pong, as Argo reads it). */
        stablePingPong: z.string().nullish(),
      })
      .loose()
      .nullish(),
    alb: AlbStatus.nullish(),
    albs: z.array(AlbStatus).nullish(),
    replicas: Count.nullish(),
    updatedReplicas: Count.nullish(),
    readyReplicas: Count.nullish(),
    availableReplicas: Count.nullish(),
  })
  .loose();

// ---- the Rollout and the body ------------------------------------------------------------------

export const NotificationRollout = z
  .object({
    apiVersion: z.string().nullish(),
    kind: z.string().nullish(),
    metadata: Metadata,
    spec: Spec,
    // A Rollout the controller has never reconciled has no status yet.
    status: orEmpty(Status),
  })
  .loose()
  .superRefine((rollout, ctx) => {
    const { canary, blueGreen } = rollout.spec.strategy;
    if (!canary && !blueGreen) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'strategy'],
        message: 'must define either canary or blueGreen',
      });
      return;
    }
    if (canary && blueGreen) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'strategy'],
        message: 'must define only one of canary and blueGreen',
      });
      return;
    }
    if (canary) checkCanary(canary, ctx);
  });
export type NotificationRollout = z.infer<typeof NotificationRollout>;

/** Cross-field rules the controller enforces too (an invalid spec never progresses). */
function checkCanary(canary: CanaryStrategy, ctx: z.RefinementCtx): void {
  const base = ['spec', 'strategy', 'canary'];
  const routing = canary.trafficRouting;
  const maxWeight = routing?.maxTrafficWeight ?? 100;
  const requireServices = (router: string) => {
    for (const key of ['canaryService', 'stableService'] as const) {
      if (!canary[key]) {
        ctx.addIssue({
          code: 'custom',
          path: [...base, key],
          message: `is required with ${router} traffic routing`,
        });
      }
    }
  };
  const pingPong = canary.pingPong;
  if (pingPong && pingPong.pingService === pingPong.pongService) {
    ctx.addIssue({
      code: 'custom',
      path: [...base, 'pingPong', 'pongService'],
      message: 'must differ from pingService (Argo needs two Services to swap)',
    });
  }
  if (routing?.alb) {
    if (!routing.alb.ingress && (routing.alb.ingresses ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'trafficRouting', 'alb', 'ingress'],
        message: 'one of ingress or ingresses is required',
      });
    }
    // validation.go: ping-pong replaces the two Services, and then the actions annotation needs a root Service.
    if (!pingPong) requireServices('ALB');
    else if (!routing.alb.rootService) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'trafficRouting', 'alb', 'rootService'],
        message: 'is required with ALB traffic routing and pingPong',
      });
    }
  }
  if (routing?.ambassador) {
    if (routing.ambassador.mappings.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'trafficRouting', 'ambassador', 'mappings'],
        message: 'must name at least one Mapping',
      });
    }
    requireServices('Ambassador');
  }
  if (routing?.istio) {
    const istio = routing.istio;
    // Host-level splitting routes by Service name (or ping-pong Services); subset-level by DestinationRule subsets (validation.go).
    if (!istio.destinationRule && !pingPong) requireServices('Istio host-level');
    if (!istio.virtualService && (istio.virtualServices ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'trafficRouting', 'istio', 'virtualService'],
        message: 'one of virtualService or virtualServices is required',
      });
    }
    const named: [string, (string | number)[]][] = [];
    if (istio.virtualService) named.push([istio.virtualService.name, ['virtualService', 'name']]);
    (istio.virtualServices ?? []).forEach((vs, index) => {
      named.push([vs.name, ['virtualServices', index, 'name']]);
    });
    for (const [reference, path] of named) {
      const { name, namespace } = splitVirtualServiceName(reference);
      const valid =
        KubernetesName.safeParse(name).success &&
        (namespace === undefined || KubernetesNamespace.safeParse(namespace).success);
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          path: [...base, 'trafficRouting', 'istio', ...path],
          message: 'must be "<name>" or "<name>.<namespace>" with DNS-1123 names',
        });
      }
    }
  }
  (canary.steps ?? []).forEach((step, index) => {
    if (step.setWeight != null && step.setWeight > maxWeight) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'steps', index, 'setWeight'],
        message: `must not exceed maxTrafficWeight (${maxWeight})`,
      });
    }
    if (step.setCanaryScale?.weight != null && step.setCanaryScale.weight > maxWeight) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'steps', index, 'setCanaryScale', 'weight'],
        message: `must not exceed maxTrafficWeight (${maxWeight})`,
      });
    }
  });
}

/**
 * Argo reads an Istio VirtualService reference as `<name>` or `<name>.<namespace>`
 * (utils/istio: the first two dot-separated fields).
 */
export function splitVirtualServiceName(reference: string): { name: string; namespace?: string } {
  const [name = '', namespace] = reference.split('.');
  return namespace === undefined ? { name } : { name, namespace };
}

export const NotificationBody = z
  .object({
    trigger: Trigger,
    rollout: NotificationRollout,
  })
  .loose();
export type NotificationBody = z.infer<typeof NotificationBody>;
