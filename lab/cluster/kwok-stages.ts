import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readVersions } from '../build/versions.js';
import { cachePaths } from '../paths.js';

/**
 * kwok's own "fast" stages, read from the pinned kwok module in the lab's module cache (as kwokctl
 * configures them): nodes initialize and keep their lease, pods become Ready with an IP, and
 * deleted pods go away. Nothing is copied into the repository.
 */
export async function kwokStagesConfig(): Promise<string> {
  const kwok = readVersions().builds.find((build) => build.id === 'kwok');
  if (!kwok) throw new Error('lab/versions.json pins no kwok');
  const root = join(cachePaths.goModules, `${kwok.module}@${kwok.version}`, 'kustomize', 'stage');
  const files = [
    'node/fast/node-initialize.yaml',
    'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
  ];
  const documents = await Promise.all(files.map((file) => readFile(join(root, file), 'utf8')));
  return documents.map((text) => text.trim()).join('\n---\n');
}
