/**
 * When the rollout moved on, from the verifier's own verdict counters per minute: the first minute
 * after the look's verdict with another verdict about the rollout (a next step, an abort, a new
 * revision). CloudWatch counts per minute, so another verdict in the look's own minute cannot be
 * placed before or after it: that minute is returned too — the look then has no whole minute to
 * judge, which is Inconclusive, never a mismatch. Undefined: nothing moved.
 */
export function movedOnAt(
  verdictsPerMinute: ReadonlyMap<number, number>,
  verdictMinute: number,
): number | undefined {
  if ((verdictsPerMinute.get(verdictMinute) ?? 0) > 1) return verdictMinute;
  let first: number | undefined;
  for (const [at, count] of verdictsPerMinute) {
    if (at > verdictMinute && count > 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}
