import { z } from 'zod';
import { ClusterName } from '../core/contracts/cluster-name.js';

/** An unset variable and an empty one mean the same: CloudFormation cannot remove a key per stage. */
export const emptyIsUnset = (value: unknown) => (value === '' ? undefined : value);

/** The ARN of a Secrets Manager secret, as the functions' settings name them. */
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/**
 * A JSON object of cluster name to Secrets Manager secret ARN in one variable
 * (`{"prod": "arn:aws:secretsmanager:…"}`): cluster connection secrets, webhook token secrets.
 */
export const clusterSecretArns = (what: string) =>
  z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    },
    z.record(
      ClusterName,
      z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
      `must be a JSON object of cluster name to ${what} secret ARN`,
    ),
  );

/** A comma-separated list in one variable, items trimmed and empty ones dropped; unset or empty: `[]`. */
export const commaSeparated = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean)
        : value,
    z.array(item).default([]),
  );

/** A setting that may be absent (or empty). */
export const optionalSetting = <T extends z.ZodType>(schema: T) =>
  z.preprocess(emptyIsUnset, schema.optional());

/** `path: message; path: message`, for errors that must name the field at fault. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Read a function's settings once at cold start: a misconfigured function fails loudly, naming the variable. */
export function readEnvironment<T extends z.ZodType>(
  schema: T,
  functionName: string,
  env: NodeJS.ProcessEnv,
): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid ${functionName} function configuration: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}
