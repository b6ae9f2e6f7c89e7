export { describeIssues as issuesText } from '../lambdas/shared/environment.js';

/** Bad flags or input: exit code 64 (EX_USAGE) with a message naming the field. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
