import { z } from 'zod';
import {
  EVENT_BUS_NAME,
  IDEMPOTENCY_TTL_SECONDS,
  STATE_TABLE_NAME,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_INITIAL_DELAY_MS,
  VERIFY_MAX_DELAY_MS,
  VERIFY_PUBLISH_RESERVE_MS,
  VERIFY_STEADY_LOOKS,
} from '../../contract/environment.js';
import { DEFAULT_DEADLINE_SECONDS } from '../core/verify.js';
import { ClusterSettings } from '../shared/clusters.js';
import { optionalSetting, readEnvironment } from '../shared/environment.js';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const VerifyEnvironment = ClusterSettings.extend({
  [EVENT_BUS_NAME]: z.string().min(1, 'EVENT_BUS_NAME must name the bus verdicts are published to'),
  [VERIFY_DEADLINE_SECONDS]: positiveInt(DEFAULT_DEADLINE_SECONDS).pipe(z.number().max(900)),
  [VERIFY_INITIAL_DELAY_MS]: positiveInt(1_000),
  [VERIFY_MAX_DELAY_MS]: positiveInt(5_000),
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
  /** Time kept back from the Lambda timeout to publish the verdict. */
  [VERIFY_PUBLISH_RESERVE_MS]: positiveInt(5_000),
});
export type VerifySettingsEnv = z.infer<typeof VerifyEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): VerifySettingsEnv {
  return readEnvironment(VerifyEnvironment, 'verify', env);
}
