import { z } from 'zod';
import { TRAFFIC_OBSERVED_KIND } from '../../../contract/event-catalog.js';
import { RolloutRef } from './rollout-event.js';
import { Verdict } from './verdict-event.js';

/**
 * The traffic-observed event: the detail of "Rollout Traffic Observed Succeeded|Failed|Inconclusive",
 * the split an ALB really served during a step, read from CloudWatch after the configuration
 * verdict. Public interface (schemaVersion 1): add optional fields, never rename or repurpose one.
 */

/** The served split contradicts the configured weights: Failed. */
export const TRAFFIC_DEFINITE_FINDING_CODES = ['ObservedSplitMismatch'] as const;

/** Too little to tell, or CloudWatch could not be read: Inconclusive. */
export const TRAFFIC_UNOBSERVABLE_FINDING_CODES = [
  'InsufficientTraffic',
  // The rollout moved on (another verdict) before a whole minute of the step was served.
  'RolloutMovedOn',
  'AccessDenied',
  'Throttled',
  'ObservationError',
  'MalformedResponse',
] as const;

/**
 * Differences between the sides, reported as evidence: they never change the verdict (which is
 * about the split) and appear only when a test says the difference is not noise.
 */
export const TRAFFIC_EVIDENCE_FINDING_CODES = ['CanaryErrorRateHigher', 'CanaryLatencyHigher'] as const;

export const TRAFFIC_FINDING_CODES = [
  ...TRAFFIC_DEFINITE_FINDING_CODES,
  ...TRAFFIC_UNOBSERVABLE_FINDING_CODES,
  ...TRAFFIC_EVIDENCE_FINDING_CODES,
] as const;
export const TrafficFindingCode = z.enum(TRAFFIC_FINDING_CODES);
export type TrafficFindingCode = z.infer<typeof TrafficFindingCode>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const TrafficFinding = z.object({
  code: TrafficFindingCode,
  /** Where: the load balancer or target group ARN. */
  resource: z.string(),
  expected: Scalar,
  observed: Scalar,
  message: z.string(),
  /** The IAM action to grant, for AccessDenied. */
  missingPermission: z.string().optional(),
});
export type TrafficFinding = z.infer<typeof TrafficFinding>;

const Share = z.number().min(0).max(1);

/** One side of the split as CloudWatch counted it over the window. */
export const ServedSide = z.object({
  role: z.enum(['canary', 'stable']),
  /** The target group ARN. */
  resource: z.string(),
  /** `RequestCount`, Sum over the window. */
  requests: z.number().nonnegative(),
  /** `HTTPCode_Target_5XX_Count`, Sum over the window. */
  errors5xx: z.number().nonnegative(),
  /** errors5xx / requests; absent without requests. */
  errorRate: Share.optional(),
  /** `TargetResponseTime` averaged over the window, weighted by each minute's requests (seconds). */
  latencySeconds: z.number().nonnegative().optional(),
});
export type ServedSide = z.infer<typeof ServedSide>;

export const TrafficObservedEventDetail = z.object({
  schemaVersion: z.literal(1),
  kind: z.literal(TRAFFIC_OBSERVED_KIND),
  /** Deterministic per configuration verdict: `<verdictId>/traffic-observed`. */
  verdictId: z.string().min(1),
  /** The configuration verdict this look follows (its verdictId), and the rollout event behind both. */
  configurationVerdictId: z.string().min(1),
  eventId: z.string().min(1),
  verdict: Verdict,
  cluster: z.string().optional(),
  rollout: RolloutRef,
  step: z.object({ index: z.number().int().nonnegative() }),
  /** The load balancer ARN whose metrics were read. */
  loadBalancer: z.string(),
  /** The whole minutes judged: [start, end), both on a minute boundary. */
  window: z.object({
    start: z.iso.datetime(),
    end: z.iso.datetime(),
    /**
     * Present when the rollout moved on (the verifier's next verdict about it) before the window
     * would have closed: the minute it happened in, where `end` was cut.
     */
    movedOnAt: z.iso.datetime().optional(),
  }),
  /** The configured canary share of canary + stable (canaryWeight / (canaryWeight + stableWeight)). */
  configuredShare: Share,
  /** canary requests / (canary + stable requests); absent without requests. */
  observedShare: Share.optional(),
  /** The 95 % Wilson score interval of observedShare. */
  interval: z.object({ low: Share, high: Share }).optional(),
  /** How far (share points) the interval may miss the configured share before it is a mismatch. */
  tolerance: Share,
  /** Requests below which the interval is too wide to judge: InsufficientTraffic. */
  requiredRequests: z.number().int().nonnegative(),
  sides: z.array(ServedSide),
  /** Canary vs stable 5xx rate: the two-proportion z statistic (positive: canary worse). */
  errorRateZ: z.number().optional(),
  /** Canary − stable latency (seconds), mean over the minutes both sides served, and its paired t statistic. */
  latencyDifference: z.object({ seconds: z.number(), t: z.number(), minutes: z.number().int() }).optional(),
  findings: z.array(TrafficFinding),
  decidedAt: z.iso.datetime(),
});
export type TrafficObservedEventDetail = z.infer<typeof TrafficObservedEventDetail>;
