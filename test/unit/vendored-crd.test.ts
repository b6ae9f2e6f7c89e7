import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';
import { ROLLOUT_CRD_PATH } from '../../sim/kube/crd-validation.js';

/** The vendored CRD is Argo's file unchanged: the checksum its README records. */
test('the vendored Rollout CRD is the release file its README names, unchanged', () => {
  const readme = readFileSync(join(dirname(ROLLOUT_CRD_PATH), 'README.md'), 'utf8');
  const recorded = readme.match(/sha256 \| `([0-9a-f]{64})`/)?.[1];
  expect(recorded, 'the README records the sha256').toBeDefined();
  const actual = createHash('sha256').update(readFileSync(ROLLOUT_CRD_PATH)).digest('hex');
  expect(actual).toBe(recorded);
  expect(readme).toContain('`v1.9.1`');
  expect(readFileSync(join(dirname(ROLLOUT_CRD_PATH), 'LICENSE'), 'utf8')).toContain('Apache License');
});
