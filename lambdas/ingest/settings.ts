import { z } from 'zod';
import { ClusterName } from '../core/contracts/cluster-name.js';
import { emptyIsUnset, optionalSetting, readEnvironment, SECRET_ARN } from '../shared/environment.js';

const wholeNumber = (fallback: number, max: number) =>
  z.preprocess(
    emptyIsUnset,
    z.coerce
      .number('must be a whole number')
      .int('must be a whole number')
      .min(0, 'must not be negative')
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

const Environment = z.object({
  EVENT_BUS_NAME: z.string('is required: the bus rollout events are published to').min(1, 'is required'),
  WEBHOOK_TOKEN_SECRET_ARN: z
    .string('is required: the Secrets Manager secret holding the webhook bearer token')
    .regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
  /** How long a container keeps the tokens it read (0: read on every authenticated request). */
  WEBHOOK_TOKEN_CACHE_SECONDS: wholeNumber(300, 3600),
  /** How long after AWSCURRENT was created the AWSPREVIOUS token is still accepted (0: never). */
  WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES: wholeNumber(60, 7 * 24 * 60),
  /** The cluster the notifications come from when the request names none (`?cluster=`). */
  CLUSTER_NAME: optionalSetting(ClusterName),
});
export type IngestSettings = z.infer<typeof Environment>;

export function readIngestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  return readEnvironment(Environment, 'ingest', env);
}
