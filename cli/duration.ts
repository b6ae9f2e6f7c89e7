const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** "45", "30s", "2m", "1m30s" → whole seconds; undefined when the text is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^(\d+[hms])+$/.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([hms])/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return seconds;
}
