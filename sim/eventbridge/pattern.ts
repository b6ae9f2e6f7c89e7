/**
 * The subset of EventBridge event patterns the project's rules use: every key of the pattern must
 * be present in the event; an array lists the accepted literal values, an object nests.
 */
export type EventPattern = { [key: string]: readonly unknown[] | EventPattern };

export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) => expected.includes(value));
    }
    return (
      typeof actual === 'object' &&
      actual !== null &&
      matchesPattern(expected as EventPattern, actual as Record<string, unknown>)
    );
  });
}
