import { z } from 'zod';
import { VERDICTS } from '../../../contract/event-catalog.js';
import { RolloutRef, RolloutTriggerSchema, TrafficState, WeightTransition } from './rollout-event.js';

/**
 * The verdict event: the detail of "Rollout Verification Succeeded|Failed|Inconclusive".
 * Public interface (schemaVersion 1): add optional fields, never rename or repurpose one.
 */

export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

/** Something is wrong with the traffic or the targets behind it: Failed once the deadline passes. */
export const DEFINITE_FINDING_CODES = [
  'WeightMismatch',
  'TargetGroupMissing',
  'UnexpectedTargetGroup',
  'NoRuleForwardsToRollout',
  'InsufficientHealthyTargets',
  'UnhealthyTargets',
  'TargetNotRegistered',
  'StaleTargetRegistration',
  // Mesh and gateway routers (Istio, Ambassador).
  'RouteNotFound',
  'AmbiguousRoutes',
  'MeshBypass',
  'DestinationRuleSubsetMismatch',
  'CanaryMappingMissing',
  'CanaryMappingServiceMismatch',
  'StableServiceNotInMapping',
] as const;

/** The verifier could not observe or decide: Inconclusive, never Failed, never a reason to abort. */
export const UNOBSERVABLE_FINDING_CODES = [
  'AccessDenied',
  'Throttled',
  'ResourceNotFound',
  'ObservationError',
  'RolloutMovedOn',
  'AmbiguousState',
  'UnsupportedTrafficRouting',
  // An answer that is not one: HTTP 200 without the result, an HTML page, truncated, items missing.
  'MalformedResponse',
] as const;

export const FINDING_CODES = [...DEFINITE_FINDING_CODES, ...UNOBSERVABLE_FINDING_CODES] as const;
export const FindingCode = z.enum(FINDING_CODES);
export type FindingCode = z.infer<typeof FindingCode>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Which observation of a verification: its attempt number (1 = the first) and when it ended. */
export const ObservationRef = z.object({
  attempt: z.number().int().positive(),
  observedAt: z.iso.datetime(),
});
export type ObservationRef = z.infer<typeof ObservationRef>;

export const Finding = z.object({
  code: FindingCode,
  /** Where: an ARN, or a Kubernetes object as `kind/namespace/name`. */
  resource: z.string(),
  expected: Scalar,
  observed: Scalar,
  message: z.string(),
  /** For weight findings: which layer diverges from the step's desired weight. */
  layer: z.enum(['load-balancer', 'argo-controller', 'both']).optional(),
  /** The IAM action to grant, for AccessDenied. */
  missingPermission: z.string().optional(),
  /**
   * Present when the finding comes from an observation before the verdict's last one, which could
   * not complete: evidence of what was last seen, not the reason for the verdict.
   */
  earlierObservation: ObservationRef.optional(),
});
export type Finding = z.infer<typeof Finding>;

export const TargetCounts = z.record(z.string(), z.number().int().nonnegative());

export const Evidence = z.object({
  /** The observation this evidence comes from (absent in verdicts from before it was recorded). */
  attempt: z.number().int().positive().optional(),
  observedAt: z.iso.datetime().optional(),
  /** False when that observation could not see everything (then the verdict is Inconclusive). */
  complete: z.boolean().optional(),
  region: z.string().optional(),
  routes: z.array(
    z.object({
      resource: z.string(),
      description: z.string(),
      destinations: z.array(z.object({ resource: z.string(), role: z.string(), weight: z.number() })),
    }),
  ),
  backends: z.array(z.object({ resource: z.string(), role: z.string(), targets: TargetCounts })),
});
export type Evidence = z.infer<typeof Evidence>;

const ExpectedSplit = TrafficState.extend({ transition: WeightTransition.optional() });

export const VerdictEventDetail = z.object({
  schemaVersion: z.literal(1),
  /** Deterministic per rollout event: the callback's idempotency key. */
  verdictId: z.string().min(1),
  /** The rollout event this verdict answers. */
  eventId: z.string().min(1),
  verdict: Verdict,
  cluster: z.string().optional(),
  rollout: RolloutRef,
  step: z.object({ index: z.number().int().nonnegative() }),
  /** The split the step expects; `transition`: the range Argo walks the canary weight through on its own. */
  expected: ExpectedSplit,
  traffic: z.object({ router: z.string() }),
  findings: z.array(Finding),
  /** Observations made, the first included. */
  attempts: z.number().int().nonnegative(),
  /** From the start of verification to the verdict. */
  durationMs: z.number().int().nonnegative(),
  deadlineSeconds: z.number().int().positive(),
  decidedAt: z.iso.datetime(),
  /**
   * What was seen: the last observation, or — when it saw nothing — the last one that saw
   * something (`evidence.attempt` says which).
   */
  evidence: Evidence.optional(),
  /**
   * The trigger of the event verified. Only a verdict on a step's own traffic (step completed,
   * paused, resumed, or a live read) may release a pause: one on `on-rollout-updated` verifies the
   * reset before the steps, not a step.
   */
  trigger: RolloutTriggerSchema.optional(),
  /**
   * Present when the Rollout (read live) had moved on since the event and the routes carried what
   * it expected then: the verdict is about that state, at that step.
   */
  movedOn: z
    .object({ step: z.object({ index: z.number().int().nonnegative() }), expected: ExpectedSplit })
    .optional(),
});
export type VerdictEventDetail = z.infer<typeof VerdictEventDetail>;
