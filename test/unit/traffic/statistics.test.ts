import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  pairedDifferenceTest,
  requestsForHalfWidth,
  tQuantile95,
  twoProportionZTest,
  wilsonHalfWidth,
  wilsonInterval,
} from '../../../lambdas/core/traffic/statistics.js';

const counts = fc
  .tuple(fc.integer({ min: 1, max: 5_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([trials, fraction]) => ({ trials, successes: Math.floor(trials * fraction) }));

describe('wilsonInterval', () => {
  it('matches a published value: 81 of 263 (Newcombe 1998) gives 0.2553–0.3662', () => {
    const { low, high } = wilsonInterval(81, 263);
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
  });

  it('is the whole [0, 1] without trials', () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('holds the observed share, stays within [0, 1]', () => {
    fc.assert(
      fc.property(counts, ({ successes, trials }) => {
        const { low, high } = wilsonInterval(successes, trials);
        const share = successes / trials;
        expect(low).toBeGreaterThanOrEqual(0);
        expect(high).toBeLessThanOrEqual(1);
        expect(low).toBeLessThanOrEqual(share + 1e-12);
        expect(high).toBeGreaterThanOrEqual(share - 1e-12);
      }),
    );
  });

  it('narrows as the same share is seen over more requests', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 2, max: 100 }), ({ successes, trials }, factor) => {
        const small = wilsonInterval(successes, trials);
        const large = wilsonInterval(successes * factor, trials * factor);
        expect(large.high - large.low).toBeLessThan(small.high - small.low);
      }),
    );
  });

  it('is symmetric: failures mirror successes', () => {
    fc.assert(
      fc.property(counts, ({ successes, trials }) => {
        const a = wilsonInterval(successes, trials);
        const b = wilsonInterval(trials - successes, trials);
        expect(a.low).toBeCloseTo(1 - b.high, 9);
        expect(a.high).toBeCloseTo(1 - b.low, 9);
      }),
    );
  });

  it('covers the true share about 95 % of the time (seeded simulation)', () => {
    // A linear congruential generator: deterministic, so the test cannot flake.
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const share = 0.1;
    const trials = 400;
    let covered = 0;
    const runs = 2000;
    for (let run = 0; run < runs; run++) {
      let successes = 0;
      for (let i = 0; i < trials; i++) if (random() < share) successes++;
      const { low, high } = wilsonInterval(successes, trials);
      if (low <= share && share <= high) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.97);
  });
});

describe('requestsForHalfWidth', () => {
  it('needs 141 requests for ±5 points at 10 % and 381 at 50 %', () => {
    expect(requestsForHalfWidth(0.1, 0.05, 0)).toBe(141);
    expect(requestsForHalfWidth(0.5, 0.05, 0)).toBe(381);
  });

  it('never goes below the floor (0 % and 100 % need the floor)', () => {
    expect(requestsForHalfWidth(0, 0.05, 100)).toBe(100);
    expect(requestsForHalfWidth(1, 0.05, 100)).toBe(100);
  });

  it('is the fewest requests whose interval is no wider than asked', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.005, max: 0.2, noNaN: true }),
        (share, halfWidth) => {
          const n = requestsForHalfWidth(share, halfWidth, 1);
          expect(wilsonHalfWidth(share, n)).toBeLessThanOrEqual(halfWidth);
          if (n > 1) expect(wilsonHalfWidth(share, n - 1)).toBeGreaterThan(halfWidth);
          // The half width is the interval's when the share is observed exactly.
          const interval = wilsonInterval(share * n, n);
          expect((interval.high - interval.low) / 2).toBeCloseTo(wilsonHalfWidth(share, n), 9);
        },
      ),
    );
  });

  it('rejects a zero width', () => {
    expect(() => requestsForHalfWidth(0.5, 0, 1)).toThrow(RangeError);
  });
});

describe('twoProportionZTest', () => {
  it('matches a hand computation: 30/1000 vs 10/1000 gives z ≈ 3.19 (pooled 2 %, SE 0.00626)', () => {
    const { z, significant } = twoProportionZTest(
      { successes: 30, trials: 1000 },
      { successes: 10, trials: 1000 },
    );
    expect(z).toBeCloseTo(3.1944, 3);
    expect(significant).toBe(true);
  });

  it('is antisymmetric and never significant for equal rates', () => {
    fc.assert(
      fc.property(counts, counts, (a, b) => {
        const ab = twoProportionZTest(a, b);
        const ba = twoProportionZTest(b, a);
        expect(ab.z).toBeCloseTo(-ba.z, 9);
        expect(ab.significant).toBe(ba.significant);
        expect(twoProportionZTest(a, a).significant).toBe(false);
      }),
    );
  });

  it('is not significant without trials or without variance', () => {
    expect(twoProportionZTest({ successes: 0, trials: 0 }, { successes: 5, trials: 10 }).significant).toBe(
      false,
    );
    expect(twoProportionZTest({ successes: 0, trials: 50 }, { successes: 0, trials: 10 })).toEqual({
      z: 0,
      significant: false,
    });
  });
});

describe('pairedDifferenceTest', () => {
  it('needs at least three minutes', () => {
    expect(
      pairedDifferenceTest([
        [0.5, 0.1],
        [0.5, 0.1],
      ]).significant,
    ).toBe(false);
  });

  it('finds a consistent difference and ignores noise around zero', () => {
    const slower = pairedDifferenceTest([
      [0.31, 0.1],
      [0.29, 0.11],
      [0.3, 0.09],
      [0.32, 0.1],
    ]);
    expect(slower.significant).toBe(true);
    expect(slower.meanDifference).toBeCloseTo(0.205, 6);
    const noise = pairedDifferenceTest([
      [0.11, 0.1],
      [0.09, 0.1],
      [0.1, 0.11],
      [0.1, 0.09],
    ]);
    expect(noise.significant).toBe(false);
  });

  it('uses Student t quantiles for few minutes and the normal one beyond 30', () => {
    expect(tQuantile95(1)).toBe(12.706);
    expect(tQuantile95(10)).toBe(2.228);
    expect(tQuantile95(200)).toBeCloseTo(1.96, 2);
  });
});
