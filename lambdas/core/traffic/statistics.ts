/**
 * The statistics of the traffic look, pure and dependency-free: a share of requests with its
 * Wilson score interval, the sample size that interval needs, and the tests that tell a real
 * difference between canary and stable from noise. docs/traffic-observed.md explains each.
 */

/** Two-sided 95 %: the normal quantile z such that P(|Z| ≤ z) = 0.95. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval of a binomial proportion `successes / trials`. Unlike the textbook
 * p ± z·√(p(1−p)/n) it stays inside [0, 1] and keeps its coverage near 0 and 1 — exactly where
 * canary shares of 1–10 % live. Zero trials: the whole [0, 1] (nothing is known).
 */
export function wilsonInterval(successes: number, trials: number, z: number = Z_95): Interval {
  if (!(trials > 0)) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Rounding can push a bound a hair past the true one (e.g. 0 successes gives low = −1e−17).
  return { low: clamp01(center - half), high: clamp01(center + half) };
}

/** Half the width of the Wilson interval around a share `p` observed exactly over `trials` requests. */
export function wilsonHalfWidth(p: number, trials: number, z: number = Z_95): number {
  const z2 = z * z;
  return (z / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
}

/**
 * The fewest requests for which the Wilson interval around the share `p` is at most ±`halfWidth`
 * wide: "the request count the interval needs". Starts from the normal approximation
 * z²·p(1−p)/w² and searches up, since near 0 % and 100 % Wilson's interval is wider than that
 * formula says. Never below `floor`.
 */
export function requestsForHalfWidth(p: number, halfWidth: number, floor: number, z: number = Z_95): number {
  if (!(halfWidth > 0 && halfWidth < 0.5))
    throw new RangeError(`half width must be in (0, 0.5), got ${halfWidth}`);
  const fits = (n: number) => n > 0 && wilsonHalfWidth(p, n, z) <= halfWidth;
  let high = Math.max(1, Math.ceil((z * z * p * (1 - p)) / (halfWidth * halfWidth)));
  while (!fits(high)) high *= 2;
  // The half width falls as n grows: the first n that fits lies in (low, high].
  let low = 0;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) high = middle;
    else low = middle;
  }
  return Math.max(floor, high);
}

export interface TwoProportionTest {
  /** (p₁ − p₂) / standard error under "both are the same" (pooled); 0 when undefined. */
  z: number;
  /** |z| > the two-sided 95 % quantile. */
  significant: boolean;
}

/**
 * The two-proportion z-test: is `a` (e.g. canary 5xx / canary requests) different from `b`? The
 * pooled proportion's standard error; with no trials on a side, or no variance at all (no errors
 * anywhere, or only errors), there is nothing to tell apart.
 */
export function twoProportionZTest(
  a: { successes: number; trials: number },
  b: { successes: number; trials: number },
  z: number = Z_95,
): TwoProportionTest {
  if (!(a.trials > 0 && b.trials > 0)) return { z: 0, significant: false };
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (!(standardError > 0)) return { z: 0, significant: false };
  const statistic = (a.successes / a.trials - b.successes / b.trials) / standardError;
  return { z: statistic, significant: Math.abs(statistic) > z };
}

/** Two-sided 95 % quantiles of Student's t for 1–30 degrees of freedom (beyond: the normal one). */
const T_95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile95(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) return Number.POSITIVE_INFINITY;
  return T_95[Math.floor(degreesOfFreedom) - 1] ?? Z_95;
}

export interface PairedDifferenceTest {
  /** Mean of (a − b) over the pairs. */
  meanDifference: number;
  /** mean / (sd / √n); 0 when undefined (fewer than 2 pairs, or no spread). */
  t: number;
  pairs: number;
  significant: boolean;
}

/**
 * A paired t-test on per-minute values (canary vs stable latency in the same minutes): CloudWatch
 * gives one average per minute and side, not the requests, so the minutes are the sample. Needs
 * at least `minPairs` minutes; a difference without spread (identical every minute) is only
 * significant if it is not zero.
 */
export function pairedDifferenceTest(
  pairs: ReadonlyArray<readonly [number, number]>,
  minPairs = 3,
): PairedDifferenceTest {
  const differences = pairs.map(([a, b]) => a - b).filter(Number.isFinite);
  const n = differences.length;
  const meanDifference = n > 0 ? differences.reduce((sum, d) => sum + d, 0) / n : 0;
  if (n < Math.max(2, minPairs)) return { meanDifference, t: 0, pairs: n, significant: false };
  const variance = differences.reduce((sum, d) => sum + (d - meanDifference) ** 2, 0) / (n - 1);
  const standardError = Math.sqrt(variance / n);
  if (!(standardError > 0)) {
    return { meanDifference, t: 0, pairs: n, significant: meanDifference !== 0 };
  }
  const t = meanDifference / standardError;
  return { meanDifference, t, pairs: n, significant: Math.abs(t) > tQuantile95(n - 1) };
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));
