/**
 * npm run lab [-- --json] [-- --only <text>]
 *
 * Builds what is missing (lab/versions.json), then runs the lab in a network namespace of its
 * own with nothing but loopback (Argo's controller binds 0.0.0.0; there it can only mean
 * 127.0.0.1), prints a timeline (or JSON) and exits non-zero when a scenario is not ok.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARGO_VERSIONS, type ArgoVersion } from './argo/controller.js';
import { motoServer } from './aws/moto.js';
import { MOTO_GAPS } from './aws/moto-gaps.js';
import { ensureBinaries } from './build/build.js';
import { readVersions } from './build/versions.js';
import { startLab } from './lab.js';
import { cachePaths } from './paths.js';
import { startMemorySampler } from './runtime/memory.js';
import { stopAll } from './runtime/processes.js';
import { labScenarios } from './scenarios/catalog.js';
import { runScenario, type ScenarioResult } from './scenarios/runner.js';
import { STAND_INS } from './stand-ins.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const inside = args.includes('--inside');
const onlyIndex = args.indexOf('--only');
/** `--only a,b`: the scenarios whose name or namespace contains any of the texts. */
const only = onlyIndex >= 0 ? args[onlyIndex + 1]?.split(',') : undefined;
/** Scenarios run side by side on one Argo controller (2 cores: more only queue up in moto and the API server). */
const SCENARIOS_AT_ONCE = Number(process.env.LAB_CONCURRENCY ?? 2);
const log = (line: string) => console.error(`[lab] ${line}`);

if (!inside) {
  const buildStarted = performance.now();
  let report: Awaited<ReturnType<typeof ensureBinaries>>;
  try {
    report = await ensureBinaries({ log });
    await motoServer(log);
  } catch (error) {
    log(`the lab could not be built: ${(error as Error).message}`);
    process.exit(2);
  }
  log(`binaries ready in ${((performance.now() - buildStarted) / 1000).toFixed(0)} s`);
  await mkdir(cachePaths.runs, { recursive: true });
  await writeFile(join(cachePaths.runs, 'last-build-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  // The run itself: a new network namespace holding only loopback.
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    'unshare',
    [
      '--net',
      '--',
      'sh',
      '-c',
      'ip link set lo up && exec "$0" "$@"',
      process.execPath,
      '--import',
      'tsx',
      script,
      '--inside',
      ...args,
    ],
    { stdio: 'inherit' },
  );
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 2 : 0)));
    child.on('error', (error) => {
      log(
        `cannot start the lab's network namespace (unshare --net needs root or user namespaces): ${error.message}`,
      );
      resolve(1);
    });
  });
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

const memory = startMemorySampler();
const runStarted = performance.now();
const scenarios = labScenarios().filter(
  (scenario) =>
    !only || only.some((text) => scenario.name.includes(text) || scenario.namespace.includes(text)),
);
const versions = ARGO_VERSIONS.filter((version) =>
  scenarios.some((scenario) => scenario.argoVersion === version),
);
const results: ScenarioResult[] = [];
const captureRoot = join(cachePaths.captures, new Date().toISOString().replace(/[:.]/g, '-'));
let components: Record<string, unknown> = {};
const argoRan: ArgoVersion[] = [];
let exitCode = 0;
try {
  if (versions.length === 0) throw new Error(`no scenario matches ${only?.join(', ')}`);
  const lab = await startLab({ argoVersion: versions[0]!, log });
  argoRan.push(versions[0]!);
  const pinned = readVersions();
  components = {
    'kube-apiserver': lab.control.gitVersion,
    'kube-controller-manager': pinned.builds.find((build) => build.id === 'kubernetes')?.version,
    'kube-scheduler': pinned.builds.find((build) => build.id === 'kubernetes')?.version,
    etcd: pinned.builds.find((build) => build.id === 'etcd')?.version,
    kwok: pinned.builds.find((build) => build.id === 'kwok')?.version,
    // Filled in as each controller starts: only releases that really ran are listed.
    'argo-rollouts': argoRan,
    'aws-load-balancer-controller': null,
    moto: lab.moto.version,
    node: process.version,
  };
  try {
    for (const version of versions) {
      if (lab.argo.version !== version) {
        await lab.useArgo(version);
        argoRan.push(version);
        argoRan.sort();
      }
      const group = scenarios.filter((scenario) => scenario.argoVersion === version);
      log(`${group.length} scenario(s) on argo-rollouts ${version}`);
      // A few at a time: each has its own namespace, load balancer and routes.
      const queue = [...group];
      const workers = Array.from({ length: SCENARIOS_AT_ONCE }, async () => {
        for (let scenario = queue.shift(); scenario; scenario = queue.shift()) {
          const result = await runScenario(lab, scenario, captureRoot);
          log(
            `${result.ok ? 'ok  ' : 'FAIL'} ${result.name}: ${result.verdicts.join(', ') || 'no verdict'} (${result.seconds.toFixed(0)} s)`,
          );
          results.push(result);
        }
      });
      await Promise.all(workers);
    }
    await writeFile(
      join(captureRoot, 'load-balancer-controller-stand-in-writes.jsonl'),
      `${lab.loadBalancerController.writes.map((write) => JSON.stringify(write)).join('\n')}\n`,
    );
  } finally {
    await lab.stop();
  }
} catch (error) {
  log(`the lab could not run: ${(error as Error).stack ?? error}`);
  exitCode = 2;
} finally {
  await stopAll();
}
const peakMiB = await memory.stop();
const order = new Map(scenarios.map((scenario, index) => [scenario.name, index]));
results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
if (results.some((result) => !result.ok) && exitCode === 0) exitCode = 1;
const summary = {
  components,
  scenarios: results.map(({ timeline: _timeline, captureDir: _dir, ...result }) => result),
  standIns: STAND_INS,
  motoGaps: MOTO_GAPS,
  captures: captureRoot,
  run: { seconds: Math.round((performance.now() - runStarted) / 1000), peakMemoryMiB: peakMiB },
  build: JSON.parse(await readFile(cachePaths.buildReport, 'utf8').catch(() => '{}')),
};
await mkdir(captureRoot, { recursive: true });
await writeFile(join(captureRoot, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
if (json) {
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} else {
  for (const result of results) {
    console.log(
      `\n${result.ok ? '✔' : '✘'} ${result.name}  [argo-rollouts ${result.argoVersion}, ${result.router}]`,
    );
    for (const line of result.timeline)
      console.log(`  ${(line.atMs / 1000).toFixed(1).padStart(6)} s  ${line.what}`);
    if (!result.ok) for (const problem of result.problems) console.log(`  ✘ ${problem}`);
  }
  console.log('\nstand-ins:');
  for (const standIn of STAND_INS) console.log(`  - ${standIn.name}: ${standIn.why}`);
  console.log('\nwhat moto lacks (lab/aws/moto-gaps.ts):');
  for (const gap of MOTO_GAPS) console.log(`  - ${gap.api}: ${gap.gap}; ${gap.handling}`);
  console.log(`\ncomponents: ${JSON.stringify(components)}`);
  console.log(`captures: ${captureRoot}`);
  console.log(`run ${summary.run.seconds} s, peak memory ${peakMiB} MiB (the lab's process tree)`);
  const passed = results.filter((result) => result.ok).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
}
process.exit(exitCode);
