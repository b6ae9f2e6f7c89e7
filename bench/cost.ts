import { round } from './stats.js';

/**
 * AWS list prices (us-east-1, December 2026 price pages; other regions differ by a few percent),
 * without free tiers: what 1,000 verifications cost the account beyond what it already runs.
 */
export const LIST_PRICES_USD = {
  /** Lambda, Arm (the stack's architecture), per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1_000_000,
  /** EventBridge custom events, per event put (64 KB chunks; ours are smaller). */
  eventBridgeEvent: 1 / 1_000_000,
  /** DynamoDB on-demand, per write request unit (items ≤ 1 KB). */
  dynamoDbWriteUnit: 0.625 / 1_000_000,
  /** SQS standard queue, per request (64 KB chunks; ours are smaller). */
  sqsRequest: 0.4 / 1_000_000,
} as const;

export interface VerifyUsage {
  verifications: number;
  /** Verify invocations (one per batch of the looks queue). */
  invocations: number;
  /** Looks-queue records verify handled: a rollout event's, and one per time its verification waited on the queue. */
  deliveries: number;
  /** SQS requests billed for the looks queue: EventBridge's and verify's sends, the event source's receives and deletes. */
  sqsRequests: number;
  /** Summed billed wall time of those invocations. */
  billedMs: number;
  memoryMb: number;
}

export interface CostPer1000 {
  /** USD for 1,000 verifications. */
  total: number;
  /** USD per 1,000 verifications, per item. */
  breakdown: {
    verifyCompute: number;
    verifyRequests: number;
    /** Waiting between looks: the looks queue's requests (waits under a second stay in the invocation, in verifyCompute). */
    waitingMechanism: number;
    /** The rollout event ingest puts and the verdict verify puts. */
    eventBridgeEvents: number;
    /** Powertools idempotency on a rollout event's first delivery: the in-progress record and its completion (counted, not simulated). */
    idempotencyWrites: number;
  };
  gbSecondsPerVerification: number;
  invocationsPerVerification: number;
  deliveriesPerVerification: number;
  sqsRequestsPerVerification: number;
}

/**
 * Cost per 1,000 verifications from what the bench measured for the verify function (GB-seconds,
 * invocations) plus the fixed per-verification items at list prices. Ingest and callback are left
 * out: they run once per step whatever the verifier's design.
 */
export function costPer1000Verifications(usage: VerifyUsage): CostPer1000 {
  const per = 1000 / Math.max(1, usage.verifications);
  const gbSeconds = (usage.billedMs / 1000) * (usage.memoryMb / 1024);
  const breakdown = {
    verifyCompute: gbSeconds * LIST_PRICES_USD.lambdaArmGbSecond * per,
    verifyRequests: usage.invocations * LIST_PRICES_USD.lambdaRequest * per,
    waitingMechanism: usage.sqsRequests * LIST_PRICES_USD.sqsRequest * per,
    eventBridgeEvents: 2 * LIST_PRICES_USD.eventBridgeEvent * 1000,
    idempotencyWrites: 2 * LIST_PRICES_USD.dynamoDbWriteUnit * 1000,
  };
  const total = Object.values(breakdown).reduce((sum, value) => sum + value, 0);
  return {
    total: round(total, 5),
    breakdown: Object.fromEntries(
      Object.entries(breakdown).map(([item, usd]) => [item, round(usd, 5)]),
    ) as CostPer1000['breakdown'],
    gbSecondsPerVerification: round(gbSeconds / Math.max(1, usage.verifications), 4),
    invocationsPerVerification: round(usage.invocations / Math.max(1, usage.verifications), 2),
    deliveriesPerVerification: round(usage.deliveries / Math.max(1, usage.verifications), 2),
    sqsRequestsPerVerification: round(usage.sqsRequests / Math.max(1, usage.verifications), 2),
  };
}
