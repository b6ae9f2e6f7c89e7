/**
 * SDK client options for the webhook's hot path. Argo sends synchronously inside its reconcile
 * loop, so a hung AWS endpoint must cost seconds at most, never the function's timeout: one
 * second to connect, 1.5 s per request, two attempts (worst case ≈ 3 s per call; the token read
 * and PutEvents together stay under the 10 s function timeout). PutEvents additionally re-sends
 * rejected entries twice (100 ms, 200 ms) in putEventsReliably.
 */
export const FAST_CLIENT_OPTIONS = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true },
} as const;
