/**
 * Bundle-time stand-in for `@smithy/core/event-streams` (esbuild alias, lib/bundling.ts).
 *
 * The SDK's HTTP protocols load it with `await import()` only for an operation that streams
 * events; none of the clients our functions use (ELBv2, EventBridge, DynamoDB, EKS, Secrets
 * Manager) has one — test/infra/bundling.test.ts checks — yet esbuild bundles the dynamic import
 * (≈ 15 KB in every bundle). Reaching this module is a bug worth an error, not a silent fallback.
 */
function unsupported() {
  throw new Error(
    'event streams are not bundled with the rollout-verifier functions (lib/bundle-shims/event-streams.mjs)',
  );
}

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

export const eventStreamSerdeProvider = () => unsupported();
