import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The lab's folder in the repository. */
export const labDir = dirname(fileURLToPath(import.meta.url));
export const repoDir = dirname(labDir);

/**
 * Everything the lab builds, downloads or records lives in one git-ignored folder, so a cold run
 * is `rm -rf lab/.cache` and nothing outside the repository is written. LAB_CACHE_DIR moves it
 * (e.g. to keep one cache for several clones of the repository).
 */
export const cacheDir = process.env.LAB_CACHE_DIR ?? join(labDir, '.cache');

export const cachePaths = {
  goModules: join(cacheDir, 'go', 'mod'),
  goBuild: join(cacheDir, 'go', 'build'),
  wrappers: join(cacheDir, 'go', 'wrappers'),
  binaries: join(cacheDir, 'bin'),
  buildReport: join(cacheDir, 'build-report.json'),
  python: join(cacheDir, 'python'),
  bundles: join(cacheDir, 'bundles'),
  runs: join(cacheDir, 'runs'),
  captures: join(cacheDir, 'captures'),
} as const;
