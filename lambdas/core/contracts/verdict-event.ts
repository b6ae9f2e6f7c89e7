import { z } from 'zod';
import { VERDICTS } from '../../../contract/event-catalog.js';
import { RolloutRef, TrafficState, WeightTransition } from './rollout-event.js';

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
] as const;

export const FINDING_CODES = [...DEFINITE_FINDING_CODES, ...UNOBSERVABLE_FINDING_CODES] as const;
export const FindingCode = z.enum(FINDING_CODES);
export type FindingCode = z.infer<typeof FindingCode>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

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
});
export type Finding = z.infer<typeof Finding>;

export const TargetCounts = z.record(z.string(), z.number().int().nonnegative());

export const Evidence = z.object({
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
  expected: TrafficState.extend({ transition: WeightTransition.optional() }),
  traffic: z.object({ router: z.string() }),
  findings: z.array(Finding),
  /** Observations made, the first included. */
  attempts: z.number().int().nonnegative(),
  /** From the start of verification to the verdict. */
  durationMs: z.number().int().nonnegative(),
  deadlineSeconds: z.number().int().positive(),
  decidedAt: z.iso.datetime(),
  /** What the last observation saw. */
  evidence: Evidence.optional(),
});
export type VerdictEventDetail = z.infer<typeof VerdictEventDetail>;
