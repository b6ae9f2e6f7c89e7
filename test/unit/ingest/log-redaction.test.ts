import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../../lambdas/shared/powertools.js';
import {
  BUS,
  deployedIngestHandler,
  fixtureText,
  functionUrlEvent,
  resetClients,
  SECRET_ARN,
} from './support.js';

/**
 * The deployed ingest handler (lambdas/ingest/handler.ts, its middy stack and the real Powertools
 * logger at DEBUG) receives Authorization headers of every shape a misconfigured cluster or a
 * stranger produces; what the logger writes to stdout/stderr must not contain any 8 consecutive
 * characters of the token that was presented.
 */

// The logger of the deployed handler at DEBUG from its first line: Powertools resets the level to the
// one it was built with at every warm invocation, so setLogLevel in a test would not hold.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

// Tokens that share no word with the log text, so a window found in the output can only be a leak.
const ACCEPTED = 'Zq7xVb2Lk9PwRt4Ys8NmHc3Jd6Gf1Ua5Qe0Wi';
const PREVIOUS = 'Hn4Tc8Xm2Kb6Rv0Lp5Sd9Fw3Gy7Jq1Ze';
const BODY = fixtureText('alb-step-completed-setweight.json');
const TOKEN_CHARACTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/='];
const WINDOW = 8;

let deployed: Awaited<ReturnType<typeof deployedIngestHandler>>;
const invoke = (event: unknown) => deployed.invoke(event);
let output: string[] = [];

beforeAll(async () => {
  deployed = await deployedIngestHandler({ EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARN: SECRET_ARN });
});

afterAll(() => deployed.restore());

beforeEach(() => {
  resetClients(events, secrets, { current: ACCEPTED, previous: PREVIOUS });
  output = [];
  // What Powertools prints goes through a Console on process.stdout/stderr: capture it there.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
  // Even with POWERTOOLS_LOGGER_LOG_EVENT=true: the event holds the Authorization header.
  vi.spyOn(logger, 'getLogEvent').mockReturnValue(true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every run of WINDOW consecutive characters of `token` that appears in `text`. */
function leakedWindows(token: string, text: string): string[] {
  const leaked = new Set<string>();
  for (let start = 0; start + WINDOW <= token.length; start++) {
    const window = token.slice(start, start + WINDOW);
    if (text.includes(window)) leaked.add(window);
  }
  return [...leaked];
}

/** The shapes a token ends up in when a template or a hand-written header goes wrong. */
const SHAPES: Array<(token: string) => string> = [
  (token) => token,
  (token) => `Bearer=${token}`,
  (token) => `Bearer:${token}`,
  (token) => `Bearer:  ${token}`,
  (token) => `Bearer,${token}`,
  (token) => `Bearer\t${token}`,
  (token) => `bearer${token}`,
  (token) => `"Bearer ${token}"`,
  (token) => `Token ${token}`,
  (token) => `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
  (token) => `Basic ${token}`,
  (token) => `${token} Bearer`,
  (token) => `Bearer ${token} ${token}`,
  (token) => `Bearer ${token},Bearer ${token}`,
  (token) => `Bearer ${token};`,
  (token) => `Bearer ${token}x`,
  (token) => `Bearer ${token.toUpperCase()}`,
  (token) => `Bearer ${token.repeat(Math.ceil(4100 / token.length))}`,
];

const randomToken = fc.string({ unit: fc.constantFrom(...TOKEN_CHARACTERS), minLength: 16, maxLength: 80 });

describe('no Authorization header shape puts token characters into the logs', () => {
  it('malformed headers are logged with their reason and length only', async () => {
    const response = await invoke(functionUrlEvent({ body: BODY, authorization: `Bearer=${ACCEPTED}` }));
    expect(response.statusCode).toBe(401);
    const entries = output
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        message: 'notification rejected',
        reason: 'malformed Authorization header: not the Bearer scheme',
        headerLength: `Bearer=${ACCEPTED}`.length,
      }),
    );
    expect(leakedWindows(ACCEPTED, output.join(''))).toEqual([]);
  });

  it('the capture is live: a token logged on purpose is found', async () => {
    logger.info('control', { leaked: `xx${ACCEPTED.slice(3, 3 + WINDOW)}yy` });
    expect(leakedWindows(ACCEPTED, output.join(''))).toEqual([ACCEPTED.slice(3, 3 + WINDOW)]);
  });

  it('property: the accepted, the previous or any token, in every malformed shape and around random text', async () => {
    let invocations = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(ACCEPTED, PREVIOUS), randomToken),
        fc.oneof(
          fc.nat({ max: SHAPES.length - 1 }).map((index) => SHAPES[index] as (token: string) => string),
          fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })).map(
            ([before, after]) =>
              (token: string) =>
                `${before}${token}${after}`,
          ),
        ),
        async (token, shape) => {
          output.length = 0;
          const authorization = shape(token);
          const response = await invoke(functionUrlEvent({ body: BODY, authorization }));
          invocations++;
          const logged = output.join('');
          // Every request is logged; a leak cannot hide behind a silent logger.
          expect(logged).toContain('"message":"notification');
          expect(
            leakedWindows(token, logged),
            `${response.statusCode} for ${JSON.stringify(authorization)}`,
          ).toEqual([]);
        },
      ),
      { seed: 20_251_113, numRuns: 600 },
    );
    expect(invocations).toBe(600);
  });

  it('nor a wrong token in the right shape, nor the accepted and previous tokens that are let in', async () => {
    for (const token of [ACCEPTED, PREVIOUS, 'Mk3Pq8Wz1Lr6Vt0Bn5Cx9Dy4Hs7Gj2Fa']) {
      output.length = 0;
      const response = await invoke(functionUrlEvent({ body: BODY, token }));
      expect([202, 401]).toContain(response.statusCode);
      expect(leakedWindows(token, output.join(''))).toEqual([]);
    }
  });
});
