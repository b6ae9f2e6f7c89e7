import { createHash } from 'node:crypto';

/** Milliseconds, like `Date.now()`. The simulator reads every time through one of these. */
export type Now = () => number;

export interface ManualClock {
  readonly now: Now;
  /** Moves the clock forward (never backwards). */
  advance(ms: number): void;
  set(ms: number): void;
}

/** A clock tests move by hand, so health checks, propagation, draining and token refill need no sleeps. */
export function createManualClock(startMs = Date.UTC(2025, 0, 1)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      if (!(ms >= 0)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
      current += ms;
    },
    set(ms: number) {
      if (ms < current) throw new RangeError('the clock does not go backwards');
      current = ms;
    },
  };
}

/** Deterministic identifiers: the same seed and call order give the same ARNs in every run. */
export class IdSource {
  private counter = 0;

  constructor(private readonly seed: string) {}

  hex(length: number, ...salt: string[]): string {
    let out = '';
    while (out.length < length) {
      out += createHash('sha256')
        .update(this.seed)
        .update(String(this.counter++))
        .update(salt.join('\u0000'))
        .digest('hex');
    }
    return out.slice(0, length);
  }

  /** A decimal id like the one in an ALB DNS name (`my-load-balancer-424835706.us-west-2.elb.amazonaws.com`). */
  decimal(...salt: string[]): string {
    return String(Number.parseInt(this.hex(8, ...salt), 16) % 2_000_000_000 || 1);
  }
}

export function sha256Hex(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
