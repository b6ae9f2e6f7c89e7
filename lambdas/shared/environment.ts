import { z } from 'zod';

/** An unset variable and an empty one mean the same: CloudFormation cannot remove a key per stage. */
export const emptyIsUnset = (value: unknown) => (value === '' ? undefined : value);

/** The ARN of a Secrets Manager secret, as the functions' settings name them. */
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

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
