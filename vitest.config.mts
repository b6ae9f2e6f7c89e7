import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    // Set before any module under test is imported: Powertools and the SDK read these at load time.
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'rollout-verifier',
      POWERTOOLS_METRICS_NAMESPACE: 'RolloutVerifier',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit, e2e, infra', include: ['test/**/*.test.ts'], exclude: ['test/package/**'] },
      },
      // Packing, installing and synthesizing keep both cores busy for half a minute: run after the
      // rest, so the timing-sensitive end-to-end tests (the demo) never share the machine with it.
      {
        extends: true,
        test: { name: 'package', include: ['test/package/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
