import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readVersions } from '../../../lab/build/versions.js';

/**
 * The lab itself runs in `npm run lab` (and CI after `npm test`), not here: it needs Go, Python
 * and minutes. On a machine without Go this says so and is skipped, never counted as passed.
 */
function goVersion(): string | null {
  try {
    return execFileSync('go', ['env', 'GOVERSION'], {
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local' },
    }).trim();
  } catch {
    return null;
  }
}

const go = goVersion();
if (!go)
  console.warn(
    'lab: no Go toolchain on this machine, so `npm run lab` cannot build its components here (test skipped)',
  );

describe('lab toolchain', () => {
  it.skipIf(!go)(
    'has the Go the pinned checksums were recorded with (else every binary is rebuilt and refused)',
    () => {
      expect(go).toBe(readVersions().goToolchain);
    },
  );
});
