import { z } from 'zod';
import {
  ALLOWED_SOURCE_CIDRS,
  CLUSTER_NAME,
  EVENT_BUS_NAME,
  WEBHOOK_TOKEN_CACHE_SECONDS,
  WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES,
  WEBHOOK_TOKEN_SECRET_ARN,
  WEBHOOK_TOKEN_SECRET_ARNS,
} from '../../contract/environment.js';
import { ClusterName } from '../core/contracts/cluster-name.js';
import {
  clusterSecretArns,
  emptyIsUnset,
  optionalSetting,
  readEnvironment,
  SECRET_ARN,
} from '../shared/environment.js';
import { AllowedSourceCidrs } from './source-allow-list.js';

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

export const IngestEnvironment = z
  .object({
    [EVENT_BUS_NAME]: z.string('is required: the bus rollout events are published to').min(1, 'is required'),
    /**
     * Each cluster's own webhook token secret: `{"<cluster>": "<secret ARN>"}`. A token speaks for
     * the cluster whose secret holds it, and only for that one.
     */
    [WEBHOOK_TOKEN_SECRET_ARNS]: optionalSetting(
      clusterSecretArns('webhook token').refine(
        (secrets) => Object.keys(secrets).length > 0,
        'must name at least one cluster',
      ),
    ),
    /**
     * One token secret, the shape before tokens were bound to clusters: bound to CLUSTER_NAME, or,
     * without it, to no cluster (events carry none and a request naming one is refused).
     */
    [WEBHOOK_TOKEN_SECRET_ARN]: optionalSetting(
      z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
    ),
    /** The cluster WEBHOOK_TOKEN_SECRET_ARN's token speaks for. */
    [CLUSTER_NAME]: optionalSetting(ClusterName),
    /** Answer only these sources (comma-separated CIDR blocks); unset: any. */
    [ALLOWED_SOURCE_CIDRS]: AllowedSourceCidrs,
    /** How long a container keeps the tokens it read (0: read on every authenticated request). */
    [WEBHOOK_TOKEN_CACHE_SECONDS]: wholeNumber(300, 3600),
    /** How long after AWSCURRENT was created the AWSPREVIOUS token is still accepted (0: never). */
    [WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES]: wholeNumber(60, 7 * 24 * 60),
  })
  .superRefine((env, context) => {
    const problem = (variable: string, message: string) =>
      context.addIssue({ code: 'custom', path: [variable], message });
    if (env.WEBHOOK_TOKEN_SECRET_ARNS === undefined && env.WEBHOOK_TOKEN_SECRET_ARN === undefined) {
      problem(
        WEBHOOK_TOKEN_SECRET_ARNS,
        'is required: JSON {"<cluster>": "<secret ARN>"}, the webhook token secret of each cluster',
      );
    }
    if (env.WEBHOOK_TOKEN_SECRET_ARNS !== undefined && env.WEBHOOK_TOKEN_SECRET_ARN !== undefined) {
      problem(
        WEBHOOK_TOKEN_SECRET_ARN,
        `cannot be set with ${WEBHOOK_TOKEN_SECRET_ARNS}: name every cluster there`,
      );
    }
    if (env.WEBHOOK_TOKEN_SECRET_ARNS !== undefined && env.CLUSTER_NAME !== undefined) {
      problem(
        CLUSTER_NAME,
        `binds ${WEBHOOK_TOKEN_SECRET_ARN} only: with ${WEBHOOK_TOKEN_SECRET_ARNS} the clusters are its keys`,
      );
    }
  });
export type IngestSettings = z.infer<typeof IngestEnvironment>;

export function readIngestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  return readEnvironment(IngestEnvironment, 'ingest', env);
}

/** Which secret holds the token of which cluster (`undefined`: the unbound token of a stack without clusters). */
export function tokenSecretsOf(
  settings: Pick<IngestSettings, 'WEBHOOK_TOKEN_SECRET_ARNS' | 'WEBHOOK_TOKEN_SECRET_ARN' | 'CLUSTER_NAME'>,
): Array<{ cluster: string | undefined; secretArn: string }> {
  if (settings.WEBHOOK_TOKEN_SECRET_ARNS) {
    return Object.entries(settings.WEBHOOK_TOKEN_SECRET_ARNS).map(([cluster, secretArn]) => ({
      cluster,
      secretArn,
    }));
  }
  return settings.WEBHOOK_TOKEN_SECRET_ARN
    ? [{ cluster: settings.CLUSTER_NAME, secretArn: settings.WEBHOOK_TOKEN_SECRET_ARN }]
    : [];
}
