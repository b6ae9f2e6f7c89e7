import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from '../paths.js';

/** One wrapper module: a published Go module at a pinned version and the commands built from it. */
export interface GoBuild {
  id: string;
  module: string;
  version: string;
  /**
   * The version that replaces a local-path replace of the upstream go.mod (`k8s.io/api =>
   * ./staging/src/k8s.io/api`): module zips leave nested modules out, so the wrapper points them at
   * their published release of the same cut (k8s v1.34.4 → staging v0.34.4, etcd v3.6.8 → v3.6.8).
   */
  localReplaceVersion?: string;
  /** binary name → package path */
  binaries: Record<string, string>;
  ldflags: string[];
  /** binary name → sha256 of the binary built with goToolchain */
  sha256: Record<string, string>;
}

export interface LabVersions {
  goToolchain: string;
  builds: GoBuild[];
  python: { moto: { version: string; extras: string } };
}

export const versionsFile = join(labDir, 'versions.json');

export function readVersions(): LabVersions {
  return JSON.parse(readFileSync(versionsFile, 'utf8')) as LabVersions;
}

/** Writes checksums observed on a build into versions.json (only with --record-checksums). */
export function recordChecksums(observed: Record<string, string>): void {
  const raw = JSON.parse(readFileSync(versionsFile, 'utf8')) as LabVersions & Record<string, unknown>;
  for (const build of raw.builds) {
    for (const name of Object.keys(build.binaries)) {
      const sum = observed[name];
      if (sum) build.sha256[name] = sum;
    }
  }
  writeFileSync(versionsFile, `${JSON.stringify(raw, null, 2)}\n`);
}

export function argoBinaryName(argoVersion: string): string {
  return `rollouts-controller-${argoVersion}`;
}
