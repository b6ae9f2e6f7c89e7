import { binaryPath, ensureBinaries, sha256File } from './build.js';
import { readVersions, recordChecksums } from './versions.js';

/**
 * `tsx lab/build/cli.ts [--record-checksums] [build ids…]`: builds what is missing. With
 * --record-checksums the checksums of the binaries in the cache are written into versions.json
 * (after a deliberate version bump).
 */
const args = process.argv.slice(2);
const record = args.includes('--record-checksums');
const only = args.filter((arg) => !arg.startsWith('--'));
const started = performance.now();
await ensureBinaries({
  ...(only.length > 0 ? { only } : {}),
  acceptNewChecksums: record,
  log: (line) => console.error(`[lab build] ${line}`),
});
if (record) {
  const observed: Record<string, string> = {};
  for (const build of readVersions().builds) {
    for (const name of Object.keys(build.binaries)) observed[name] = await sha256File(binaryPath(name));
  }
  recordChecksums(observed);
  console.error('[lab build] checksums recorded in lab/versions.json');
}
console.error(`[lab build] done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
