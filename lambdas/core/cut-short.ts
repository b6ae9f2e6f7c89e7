import type { Finding } from './contracts/verdict-event.js';

/**
 * A call the deadline cuts short while it was being retried for throttling ends as an AbortError,
 * yet the verdict must say throttling, not "deadline": the clients record it on the error they
 * throw, and `cutShortFinding` reads it back.
 */
export function markThrottledCall(error: unknown, throttled: boolean): unknown {
  if (error instanceof Error) Object.assign(error, { throttledDuringCall: throttled });
  return error;
}

/** The finding for a call the deadline cut short (`call`: what was in flight), else undefined. */
export function cutShortFinding(error: unknown, resource: string, call: string): Finding | undefined {
  if (!(error instanceof Error) || error.name !== 'AbortError') return undefined;
  const throttled = (error as { throttledDuringCall?: unknown }).throttledDuringCall === true;
  return {
    code: throttled ? 'Throttled' : 'ObservationError',
    resource,
    expected: 'an answer',
    observed: throttled ? 'throttled until the deadline' : 'deadline',
    message: throttled
      ? `${call} kept being throttled until the deadline`
      : `the deadline passed while ${call} was still in flight`,
  };
}
