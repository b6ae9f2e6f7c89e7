import { z } from 'zod';
import {
  AWS_LAMBDA_FUNCTION_NAME,
  CALLBACK_PAUSE_SETTLE_MS,
  IDEMPOTENCY_TTL_SECONDS,
  ON_FAILURE,
  ON_INCONCLUSIVE,
  ON_SUCCESS,
  STATE_TABLE_NAME,
} from '../../contract/environment.js';
import { ClusterSettings } from '../shared/clusters.js';
import { emptyIsUnset, optionalSetting, readEnvironment } from '../shared/environment.js';

const policy = <T extends string>(values: readonly [T, ...T[]], fallback: T) =>
  z.preprocess(emptyIsUnset, z.enum(values).default(fallback));

export const CallbackEnvironment = ClusterSettings.extend({
  /** A Failed verdict aborts the Rollout (unless its annotation says otherwise). */
  [ON_FAILURE]: policy(['abort', 'none'], 'abort'),
  /** A Succeeded verdict promotes a Rollout paused at the verified step (opt-in; annotations may opt in per Rollout). */
  [ON_SUCCESS]: policy(['promote', 'none'], 'none'),
  /** An Inconclusive verdict (could not observe) aborts only when this says so. */
  [ON_INCONCLUSIVE]: policy(['abort', 'none'], 'none'),
  /** Powertools idempotency: one action per verdictId across duplicate deliveries. Unset: local runs. */
  [STATE_TABLE_NAME]: optionalSetting(z.string().min(1)),
  [IDEMPOTENCY_TTL_SECONDS]: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * 3600),
  /** A pause younger than this is not released yet (the controller may still be writing it). */
  [CALLBACK_PAUSE_SETTLE_MS]: z.preprocess(
    emptyIsUnset,
    z.coerce.number().int().min(0).max(30_000).default(2_000),
  ),
  [AWS_LAMBDA_FUNCTION_NAME]: z.string().default('rollout-verifier-callback'),
});
export type CallbackSettings = z.infer<typeof CallbackEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): CallbackSettings {
  return readEnvironment(CallbackEnvironment, 'callback', env);
}
