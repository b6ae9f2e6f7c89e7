import { readFile } from 'node:fs/promises';
import { ClusterName } from '../lambdas/core/contracts/cluster-name.js';
import { NotificationValidationError, normalizeNotification } from '../lambdas/core/normalize/index.js';
import { MAX_BODY_BYTES } from '../lambdas/ingest/request.js';
import { classifyTrigger } from '../lambdas/ingest/triggers.js';
import { UsageError } from './usage-error.js';

export interface NormalizeOptions {
  body: string;
  cluster?: string;
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin?: NodeJS.ReadableStream;
}

/**
 * `rollout-verifier normalize --body <file|->`: what the ingest endpoint makes of a notification
 * body, for debugging a notification template. Mirrors the endpoint's answers:
 * - valid → the normalized event detail on stdout (exactly what would be published), exit 0;
 * - a trigger the verifier does not act on → nothing on stdout, a note on stderr, exit 0
 *   (the endpoint answers 202 and publishes nothing);
 * - not JSON, too large, or schema violations → the error on stderr, one failing path per line, exit 64.
 */
export async function normalizeCommand(options: NormalizeOptions, io: Io, now = new Date()): Promise<number> {
  const source = options.body === '-' ? 'standard input' : options.body;
  if (options.cluster !== undefined) {
    const cluster = ClusterName.safeParse(options.cluster);
    if (!cluster.success)
      throw new UsageError(`--cluster ${cluster.error.issues[0]?.message ?? 'is invalid'}`);
  }
  const bytes =
    options.body === '-'
      ? await readAll(io.stdin ?? process.stdin)
      : await readFile(options.body).catch((error: Error) => {
          throw new UsageError(`--body: cannot read ${options.body}: ${error.message}`);
        });
  if (bytes.length > MAX_BODY_BYTES) {
    throw new UsageError(
      `--body: ${source} is ${bytes.length} bytes; the ingest endpoint accepts at most ${MAX_BODY_BYTES} (HTTP 413)`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new UsageError(`--body: ${source} is not JSON (HTTP 400): ${(error as Error).message}`);
  }

  const trigger = classifyTrigger(body);
  if (trigger.kind === 'ignored') {
    io.stderr.write(
      `rollout-verifier: ignored: ${trigger.reason}.\nThe ingest endpoint answers 202 {"accepted": false} and publishes nothing.\n`,
    );
    return 0;
  }
  try {
    const detail = normalizeNotification(body, { receivedAt: now, cluster: options.cluster });
    io.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof NotificationValidationError)) throw error;
    // The message is a headline plus one "  - <path>: <problem>" line per failing path.
    throw new UsageError(`${error.message}\n(the ingest endpoint answers HTTP 422 and publishes nothing)`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
