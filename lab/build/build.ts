import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePaths } from '../paths.js';
import { wrapperGoMod } from './go-wrapper.js';
import { type Measured, runCommand, runMeasured } from './process.js';
import { type GoBuild, type LabVersions, readVersions } from './versions.js';

export interface BinaryBuildRecord extends Measured {
  binary: string;
  build: string;
  sha256: string;
  goVersion: string;
  builtAt: string;
}

export type BuildReport = Record<string, BinaryBuildRecord>;

/**
 * The environment of every Go command of the lab: modules and build cache in the lab's cache
 * folder, the machine's own Go (never a toolchain download), static binaries without VCS stamps
 * and with trimmed paths so the same toolchain builds the same bytes.
 */
export function goEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: cachePaths.goModules,
    GOCACHE: cachePaths.goBuild,
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod -buildvcs=false -trimpath',
    CGO_ENABLED: '0',
    GOWORK: 'off',
  };
}

export const binaryPath = (name: string): string => join(cachePaths.binaries, name);

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function readBuildReport(): Promise<BuildReport> {
  try {
    return JSON.parse(await readFile(cachePaths.buildReport, 'utf8')) as BuildReport;
  } catch {
    return {};
  }
}

async function upstreamGoMod(build: GoBuild): Promise<string> {
  const { stdout } = await runCommand(
    'go',
    ['mod', 'download', '-json', `${build.module}@${build.version}`],
    {
      env: goEnvironment(),
      cwd: cachePaths.wrappers,
    },
  );
  const info = JSON.parse(stdout) as { GoMod?: string; Error?: string };
  if (!info.GoMod)
    throw new Error(`go mod download ${build.module}@${build.version}: ${info.Error ?? 'no GoMod'}`);
  return readFile(info.GoMod, 'utf8');
}

export interface ChecksumProblem {
  binary: string;
  expected: string;
  actual: string;
}

/** A binary whose bytes differ from the pinned checksum is never run. */
export async function checkPinnedChecksum(build: GoBuild, name: string): Promise<ChecksumProblem | null> {
  const expected = build.sha256[name];
  const actual = await sha256File(binaryPath(name));
  if (expected && expected !== actual) return { binary: name, expected, actual };
  return null;
}

async function goVersion(): Promise<string> {
  const { stdout } = await runCommand('go', ['env', 'GOVERSION'], { env: goEnvironment() });
  return stdout.trim();
}

export interface EnsureOptions {
  /** Build ids to consider (default: all). */
  only?: string[];
  log?: (line: string) => void;
  /** Accept checksums that differ from versions.json (they are reported, to be recorded). */
  acceptNewChecksums?: boolean;
}

/**
 * Builds every pinned binary that is missing from the cache, one wrapper module per build, and
 * checks each binary against its pinned sha256. Returns the build report (cold build times and
 * peak memory of the builds that ran, kept from earlier runs for the others).
 */
export async function ensureBinaries(options: EnsureOptions = {}): Promise<BuildReport> {
  const log = options.log ?? (() => {});
  const versions: LabVersions = readVersions();
  for (const dir of [cachePaths.binaries, cachePaths.wrappers, cachePaths.goBuild, cachePaths.goModules]) {
    await mkdir(dir, { recursive: true });
  }
  const toolchain = await goVersion();
  if (toolchain !== versions.goToolchain) {
    log(`note: Go is ${toolchain}; the pinned checksums were recorded with ${versions.goToolchain}`);
  }
  const report = await readBuildReport();
  const problems: ChecksumProblem[] = [];
  for (const build of versions.builds) {
    if (options.only && !options.only.includes(build.id)) continue;
    const missing = Object.keys(build.binaries).filter((name) => !existsSync(binaryPath(name)));
    if (missing.length > 0) {
      const wrapperDir = join(cachePaths.wrappers, build.id);
      await mkdir(wrapperDir, { recursive: true });
      await writeFile(join(wrapperDir, 'go.mod'), wrapperGoMod(build, await upstreamGoMod(build)));
      for (const name of missing) {
        const pkg = build.binaries[name]!;
        log(`building ${name} from ${build.module}@${build.version} (${pkg})`);
        const ldflags = ['-s', '-w', ...build.ldflags].join(' ');
        const measured = await runMeasured(
          'go',
          ['build', '-ldflags', ldflags, '-o', binaryPath(name), pkg],
          { cwd: wrapperDir, env: goEnvironment(), timeReport: join(wrapperDir, `${name}.time`) },
        );
        // Re-read: another build may have written the report meanwhile.
        Object.assign(report, await readBuildReport());
        report[name] = {
          ...measured,
          binary: name,
          build: `${build.module}@${build.version}`,
          sha256: await sha256File(binaryPath(name)),
          goVersion: toolchain,
          builtAt: new Date().toISOString(),
        };
        await writeFile(cachePaths.buildReport, `${JSON.stringify(report, null, 2)}\n`);
        log(
          `built ${name} in ${measured.seconds.toFixed(0)} s, peak ${((measured.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`,
        );
      }
    }
    for (const name of Object.keys(build.binaries)) {
      const problem = await checkPinnedChecksum(build, name);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0 && !options.acceptNewChecksums) {
    const lines = problems.map((p) => `  ${p.binary}: pinned ${p.expected}, built ${p.actual}`);
    throw new Error(`binaries differ from lab/versions.json:\n${lines.join('\n')}`);
  }
  return report;
}
