import { z } from 'zod';
import {
  ELB_DESCRIBE_BURST,
  ELB_DESCRIBE_RATE_PER_SECOND,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_INITIAL_DELAY_MS,
  VERIFY_MAX_DELAY_MS,
} from '../../contract/environment.js';
import type { DescribeShare } from '../core/routers/alb/describe-budget.js';
import { DEFAULT_DEADLINE_SECONDS } from '../core/verify.js';

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A verification's deadline and backoff, for every function that verifies (verify, gate, sentinel). */
export const VerificationScheduleSettings = {
  [VERIFY_DEADLINE_SECONDS]: positiveInt(DEFAULT_DEADLINE_SECONDS).pipe(z.number().max(900)),
  [VERIFY_INITIAL_DELAY_MS]: positiveInt(1_000),
  [VERIFY_MAX_DELAY_MS]: positiveInt(5_000),
};

/**
 * The account's ELBv2 Describe budget (ELBv2 throttles per account and region): refill per second,
 * and burst. A function paces itself to its share of it.
 */
export const DescribeBudgetSettings = {
  [ELB_DESCRIBE_RATE_PER_SECOND]: z.coerce.number().positive().default(10),
  [ELB_DESCRIBE_BURST]: positiveInt(40),
};

/** `share` of the account's Describe budget, as a DescribeBudget takes it. */
export function describeShare(
  share: number,
  budget: { [ELB_DESCRIBE_RATE_PER_SECOND]: number; [ELB_DESCRIBE_BURST]: number },
): DescribeShare {
  return {
    share,
    accountRatePerSecond: budget[ELB_DESCRIBE_RATE_PER_SECOND],
    accountBurst: budget[ELB_DESCRIBE_BURST],
  };
}
