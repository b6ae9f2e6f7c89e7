import { Readable } from 'node:stream';
import type { CliIo } from '../../cli/program.js';

/** A terminal-less stdin/stdout/stderr for runCli, with what was written. */
export function captureCliIo(stdin = ''): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      stdin: Readable.from([stdin]),
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
