import { z } from 'zod';
import {
  ELB_DESCRIBE_BURST,
  ELB_DESCRIBE_RATE_PER_SECOND,
  EVENT_BUS_NAME,
  IDEMPOTENCY_TTL_SECONDS,
  STATE_TABLE_NAME,
  VERIFY_DESCRIBE_SHARE,
  VERIFY_HOLD_MS,
  VERIFY_LOOK_CONCURRENCY,
  VERIFY_PUBLISH_RESERVE_MS,
  VERIFY_QUEUE_URL,
  VERIFY_STEADY_LOOKS,
} from '../../contract/environment.js';
import type { DescribeShare } from '../core/routers/alb/describe-budget.js';
import { ClusterSettings } from '../shared/clusters.js';
import { optionalSetting, readEnvironment } from '../shared/environment.js';
import {
  DescribeBudgetSettings,
  describeShare,
  positiveInt,
  VerificationScheduleSettings,
} from '../shared/verification-settings.js';

export const VerifyEnvironment = ClusterSettings.extend({
  [EVENT_BUS_NAME]: z.string().min(1, 'EVENT_BUS_NAME must name the bus verdicts are published to'),
  ...VerificationScheduleSettings,
  /**
   * Looks that saw the weights still wrong (reading only DescribeRules) after which the next comes
   * within VERIFY_INITIAL_DELAY_MS: the load balancer controller usually applies a step within a
   * few seconds. Full looks, throttled or failed ones back off.
   */
  [VERIFY_STEADY_LOOKS]: z.coerce.number().int().min(0).max(100).default(10),
  /**
   * The table that makes the function idempotent on the rollout event's eventId, so a duplicate
   * delivery (Argo retries, overlapping subscriptions, EventBridge at-least-once) is verified once.
   * Unset: no deduplication across containers (local runs).
   */
  [STATE_TABLE_NAME]: optionalSetting(z.string().min(1)),
  /** How long a verified eventId is remembered. */
  [IDEMPOTENCY_TTL_SECONDS]: positiveInt(3_600),
  /** Time kept back from the Lambda timeout to publish the verdict or re-queue the verification. */
  [VERIFY_PUBLISH_RESERVE_MS]: positiveInt(5_000),
  /** The looks queue: verifications that must wait are sent back to it with a delay. */
  [VERIFY_QUEUE_URL]: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'VERIFY_QUEUE_URL must be the URL of the looks queue'),
  /** How many invocations the looks queue's event source mapping runs at once (its maximum concurrency). */
  [VERIFY_LOOK_CONCURRENCY]: positiveInt(5).pipe(z.number().max(1000)),
  /**
   * Sub-second waits between looks one delivery may take inside its invocation, in total; longer
   * waits, and any once this is spent, go back to the queue with a delay (whole seconds).
   */
  [VERIFY_HOLD_MS]: z.coerce.number().int().min(0).max(60_000).default(0),
  /**
   * The share of the account's ELBv2 Describe budget verify may spend, all its containers
   * together (each takes this ÷ VERIFY_LOOK_CONCURRENCY): the rest is the load balancer
   * controller's, Argo's and the sentinel's.
   */
  [VERIFY_DESCRIBE_SHARE]: z.coerce.number().gt(0).max(1).default(0.5),
  ...DescribeBudgetSettings,
});
export type VerifySettingsEnv = z.infer<typeof VerifyEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): VerifySettingsEnv {
  return readEnvironment(VerifyEnvironment, 'verify', env);
}

/** The settings that size verify's Describe budget: its share, how many containers split it, the account's budget. */
const DescribeShareEnvironment = VerifyEnvironment.pick({
  [VERIFY_DESCRIBE_SHARE]: true,
  [VERIFY_LOOK_CONCURRENCY]: true,
  [ELB_DESCRIBE_RATE_PER_SECOND]: true,
  [ELB_DESCRIBE_BURST]: true,
});

/**
 * Verify's part of the Describe budget, per container: its share divided among the containers the
 * event source runs at once. Only these four variables are read (the handler reads them per
 * invocation).
 */
export function readDescribeShare(env: NodeJS.ProcessEnv = process.env): DescribeShare {
  const settings = readEnvironment(DescribeShareEnvironment, 'verify', env);
  return describeShare(settings.VERIFY_DESCRIBE_SHARE / settings.VERIFY_LOOK_CONCURRENCY, settings);
}
