import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../build/process.js';
import { readVersions } from '../build/versions.js';
import { cachePaths } from '../paths.js';
import { freePort, type ManagedProcess, startProcess, waitFor } from '../runtime/processes.js';

export const LAB_REGION = 'eu-west-1';
/** moto's default account. */
export const LAB_ACCOUNT = '123456789012';

export interface Moto {
  endpoint: string;
  version: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The moto_server the lab runs: the machine's own when it is the pinned version, else one
 * installed from PyPI into the lab's cache (a virtualenv, `moto[server]==<pinned>`).
 */
export async function motoServer(
  log: (line: string) => void = () => {},
): Promise<{ command: string; version: string }> {
  const pinned = readVersions().python.moto;
  const installed = await motoVersionOf('python3');
  if (installed === pinned.version) return { command: 'moto_server', version: installed };
  const venv = join(cachePaths.python, `moto-${pinned.version}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    log(`installing moto[${pinned.extras}]==${pinned.version} from PyPI into ${venv}`);
    await runCommand('python3', ['-m', 'venv', venv]);
    await runCommand(python, [
      '-m',
      'pip',
      'install',
      '--quiet',
      `moto[${pinned.extras}]==${pinned.version}`,
    ]);
  }
  const version = await motoVersionOf(python);
  if (version !== pinned.version) throw new Error(`moto ${pinned.version} is pinned, ${venv} has ${version}`);
  return { command: join(venv, 'bin', 'moto_server'), version };
}

async function motoVersionOf(python: string): Promise<string | null> {
  try {
    const { stdout } = await runCommand(python, ['-c', 'import moto; print(moto.__version__)']);
    return stdout.trim();
  } catch {
    return null;
  }
}

export async function startMoto(runDir: string, log?: (line: string) => void): Promise<Moto> {
  const { command, version } = await motoServer(log);
  const port = await freePort();
  const process = startProcess({
    name: 'moto',
    command,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    env: { ...globalThis.process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
    logDir: runDir,
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor('moto_server', async () => (await fetch(`${endpoint}/moto-api/`)).ok, {
    process,
    timeoutMs: 60_000,
  });
  return { endpoint, version, process, stop: () => process.stop() };
}
