import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version in the package's own package.json: the nearest one above this module named
 * rollout-verifier, which is `../package.json` from the sources and `../../package.json` from the
 * compiled `dist/cli/` of the installed package.
 */
export function packageVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === 'rollout-verifier' && typeof manifest.version === 'string')
      return manifest.version;
    if (dirname(dir) === dir) throw new Error(`no rollout-verifier package.json above ${from}`);
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
