/**
 * Who writes which items of the state table: the one place the runtime (lambdas/shared/idempotency.ts,
 * which writes them) and the infrastructure (lib/state-table.ts, whose IAM grant allows only them
 * through `dynamodb:LeadingKeys`) read it. Dependency-free, like event-catalog.ts.
 *
 * Powertools idempotency writes partition keys `<prefix>#<hash of the event key>`; the prefix is
 * fixed per function rather than the Lambda function name Powertools uses by default, because the
 * role's policy cannot name its own function (the function depends on its role: a cycle).
 */
export const STATE_KEY_PREFIXES = {
  verify: 'verify',
  callback: 'callback',
} as const;

export type StateTableWriter = keyof typeof STATE_KEY_PREFIXES;

/** The separator Powertools puts between the prefix and the hash. */
export const STATE_KEY_SEPARATOR = '#';
