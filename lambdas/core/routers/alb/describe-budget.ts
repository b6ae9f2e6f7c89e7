import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

/** A share (0–1) of the account's Describe budget: its refill per second and its burst. */
export interface DescribeShare {
  share: number;
  accountRatePerSecond: number;
  accountBurst: number;
}

/**
 * A function's share of the account's ELBv2 Describe budget (one token bucket per account and
 * region: about 40 calls of burst, 10 per second of refill, shared with the load balancer
 * controller, Argo, the verify function and the drift sentinel): a token bucket of `share` times
 * that rate and burst. Every attempt waits for a token (retries too), so the function never draws
 * more than its share, whatever the others do; its verifications get slower instead. The verify
 * function gives each container its share divided by how many run at once.
 */
export class DescribeBudget {
  private tokens: number;
  private last: number;
  ratePerSecond: number;
  burst: number;
  /** Attempts paced, and the time spent waiting for tokens (for the run's report). */
  taken = 0;
  waitedMs = 0;

  constructor(
    options: DescribeShare,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.ratePerSecond = options.share * options.accountRatePerSecond;
    this.burst = Math.max(1, Math.floor(options.share * options.accountBurst));
    this.tokens = this.burst;
    this.last = now();
  }

  /** New limits from now on (the tokens in hand are kept, up to the new burst). */
  configure(options: DescribeShare): void {
    this.ratePerSecond = options.share * options.accountRatePerSecond;
    this.burst = Math.max(1, Math.floor(options.share * options.accountBurst));
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Resolves once a token is taken. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.taken++;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      this.waitedMs += waitMs;
      await this.sleep(waitMs);
    }
  }

  /** Paces every request `client` sends (each retry attempt included) through this budget. */
  pace(client: ElasticLoadBalancingV2Client): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        await this.take();
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'rolloutVerifierDescribeBudget', override: true },
    );
  }
}
