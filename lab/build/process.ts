import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with its stderr tail when it exits non-zero. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

export interface Measured {
  seconds: number;
  /** The largest resident set of the command or any one of its children (getrusage), KiB. */
  maxRssKiB: number | null;
}

/**
 * Runs a command under GNU time when the machine has it, for wall time and peak memory; without
 * it, wall time only.
 */
export async function runMeasured(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeReport: string },
): Promise<Measured> {
  const started = performance.now();
  const gnuTime = '/usr/bin/time';
  const haveGnuTime = await readFile(gnuTime).then(
    () => true,
    () => false,
  );
  if (haveGnuTime) await runCommand(gnuTime, ['-v', '-o', options.timeReport, command, ...args], options);
  else await runCommand(command, args, options);
  const seconds = (performance.now() - started) / 1000;
  if (!haveGnuTime) return { seconds, maxRssKiB: null };
  const report = await readFile(options.timeReport, 'utf8');
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1];
  return { seconds, maxRssKiB: rss ? Number(rss) : null };
}
