import assert from 'node:assert/strict';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_DETAIL_TYPES, type RolloutTrigger } from '../../../contract/event-catalog.js';
import { RolloutEventDetail } from '../../../lambdas/core/contracts/rollout-event.js';
import { normalizeNotification } from '../../../lambdas/core/normalize/index.js';
import { MAX_BODY_BYTES } from '../../../lambdas/ingest/request.js';
import type { IngestResponse } from '../../../lambdas/ingest/responses.js';
import { IRRELEVANT_ARGO_TRIGGERS } from '../../../lambdas/ingest/triggers.js';
import {
  BUS,
  CURRENT_TOKEN,
  fixture,
  functionUrlEvent,
  mockTokens,
  PREVIOUS_TOKEN,
  type RequestOptions,
  testHandler,
  VALID_FIXTURES,
} from './support.js';

/**
 * Property tests: thousands of generated and mutated requests against the handler (the middy
 * stack included), checking the contract for every one of them:
 * - it never throws, and always answers JSON with one of the specified statuses;
 * - 202 `accepted: true` ⇔ exactly one PutEvents entry whose Detail is a valid rollout event with
 *   that eventId; every other answer publishes nothing;
 * - for well-formed JSON the answer agrees with the normalizer (the oracle).
 * A fixed seed makes a failure reproduce; fast-check prints the shrunk counterexample.
 */
const SEED = 20_251_103;
const SPECIFIED = new Set([202, 400, 401, 405, 413, 422, 503]);
const RELEVANT = Object.keys(ROLLOUT_DETAIL_TYPES);

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
const { invoke, clock } = testHandler();
const RECEIVED_AT = new Date(clock.now);

let runs = 0;
/** Answers by status (202 split into published / ignored), printed at the end: the mix the generators reach. */
const answers = new Map<string, number>();
const started = performance.now();

beforeAll(() => {
  mockTokens(secrets);
  capturePutEvents();
});

function capturePutEvents() {
  events.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => {
    sent.push(...(input.Entries ?? []));
    return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `eb-${i}` })) };
  });
}

afterAll(() => {
  const seconds = (performance.now() - started) / 1000;
  const mix = [...answers.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([answer, count]) => `${answer}: ${count}`)
    .join(', ');
  console.log(
    `ingest property tests: ${runs} generated requests in ${seconds.toFixed(1)} s (seed ${SEED}); ${mix}`,
  );
  expect(runs).toBeGreaterThanOrEqual(10_000);
});

interface Outcome {
  response: IngestResponse;
  body: Record<string, unknown>;
  published: RolloutEventDetail[];
}

/** What PutEvents received during the current request. */
const sent: PutEventsRequestEntry[] = [];

/**
 * One request; checks the invariants every answer must satisfy and returns what happened.
 * node:assert, not expect: ten thousand runs of a dozen checks each add up.
 */
async function send(event: unknown, via = invoke): Promise<Outcome> {
  runs++;
  sent.length = 0;
  const response = await via(event);
  assert.ok(SPECIFIED.has(response.statusCode), `status ${response.statusCode}: ${response.body}`);
  assert.equal(response.headers['content-type'], 'application/json');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  const answer =
    response.statusCode === 202
      ? body.accepted
        ? '202 published'
        : '202 ignored'
      : String(response.statusCode);
  answers.set(answer, (answers.get(answer) ?? 0) + 1);
  const published = sent.map((entry) => {
    assert.equal(entry.EventBusName, BUS);
    assert.equal(entry.Source, 'rollout-verifier.ingest');
    const detail = RolloutEventDetail.parse(JSON.parse(entry.Detail ?? 'null'));
    assert.equal(entry.DetailType, ROLLOUT_DETAIL_TYPES[detail.trigger as RolloutTrigger]);
    return detail;
  });
  if (response.statusCode === 202 && body.accepted === true) {
    assert.equal(published.length, 1, 'accepted: true ⇒ exactly one entry published');
    assert.equal(published[0]?.eventId, body.eventId);
  } else {
    assert.equal(published.length, 0, `status ${response.statusCode} must not publish`);
  }
  if (response.statusCode === 202 && body.accepted === false) assert.equal(typeof body.reason, 'string');
  if (response.statusCode === 422) {
    const issues = body.issues as { path: unknown; message: unknown }[];
    assert.ok(issues.length > 0);
    for (const issue of issues) {
      assert.equal(typeof issue.path, 'string');
      assert.equal(typeof issue.message, 'string');
    }
  }
  if (response.statusCode === 401) assert.equal(response.headers['www-authenticate'], 'Bearer');
  if (response.statusCode === 405) assert.equal(response.headers.allow, 'POST');
  return { response, body, published };
}

/** The answer the handler must give a well-formed, authenticated JSON body of acceptable size. */
function expectAgreesWithNormalizer(json: unknown, outcome: Outcome): void {
  const trigger = (json as { trigger?: unknown } | null)?.trigger;
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  if (
    isObject &&
    typeof trigger === 'string' &&
    !RELEVANT.includes(trigger) &&
    /^on-[a-z0-9]+(-[a-z0-9]+)*$/.test(trigger)
  ) {
    assert.equal(outcome.response.statusCode, 202);
    assert.equal(outcome.body.accepted, false);
    return;
  }
  let expected: RolloutEventDetail | undefined;
  try {
    expected = normalizeNotification(json, { receivedAt: RECEIVED_AT });
  } catch {
    expected = undefined;
  }
  if (expected) {
    assert.equal(outcome.response.statusCode, 202, outcome.response.body);
    assert.deepEqual(outcome.published, [expected]);
  } else {
    assert.equal(outcome.response.statusCode, 422, outcome.response.body);
  }
}

const post = (body: string, options: RequestOptions = {}) => functionUrlEvent({ body, ...options });

// ---- mutations of valid fixture bodies -----------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every path to a value inside the body (the root excluded). */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function parentOf(
  root: Json,
  path: Path,
): { parent: Json[] | { [key: string]: Json }; key: string | number } {
  let node: Json = root;
  for (const segment of path.slice(0, -1)) node = (node as Record<string | number, Json>)[segment] as Json;
  return { parent: node as Json[] | { [key: string]: Json }, key: path[path.length - 1] as string | number };
}

/** Same value, another JSON type: the template errors a `toJson` or a quoting slip produces. */
function retype(value: Json): Json {
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : value.length;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null) return {};
  if (Array.isArray(value)) return Object.fromEntries(value.map((item, index) => [String(index), item]));
  return Object.values(value);
}

interface Mutation {
  pick: number;
  op: 'drop' | 'replace' | 'retype' | 'null';
  value: Json;
}

function mutate(seed: Json, mutations: Mutation[]): Json {
  const body = structuredClone(seed);
  for (const mutation of mutations) {
    const paths = pathsOf(body);
    if (paths.length === 0) break;
    const path = paths[mutation.pick % paths.length] as Path;
    const { parent, key } = parentOf(body, path);
    const record = parent as Record<string | number, Json>;
    if (mutation.op === 'drop') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete record[key];
    } else if (mutation.op === 'replace') record[key] = mutation.value;
    else if (mutation.op === 'retype') record[key] = retype(record[key] as Json);
    else record[key] = null;
  }
  return body;
}

const SEEDS = VALID_FIXTURES.map((name) => fixture(name) as Json);

/** Values a broken template or a hostile caller might put anywhere. */
const anyJson: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>('', '-1', '1e3', 'on-rollout-aborted', -1, 1.5, 2 ** 53, 1001, true, [], {}),
);

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('drop', 'replace', 'retype', 'null'),
  value: anyJson,
});

const triggerValue = fc.oneof(
  fc.constantFrom(...RELEVANT, ...IRRELEVANT_ARGO_TRIGGERS, 'on-rollout-step-complete', 'ON-ROLLOUT-UPDATED'),
  fc.string({ maxLength: 30 }),
  anyJson,
);

describe('property: the handler never throws and answers as specified', () => {
  it('mutated valid fixture bodies (drop / replace / retype / null at random paths)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (seedIndex, mutations) => {
          const json = mutate(SEEDS[seedIndex] as Json, mutations);
          const outcome = await send(post(JSON.stringify(json)));
          expectAgreesWithNormalizer(json, outcome);
        },
      ),
      { seed: SEED, numRuns: 4_000 },
    );
  });

  it('valid fixtures with the trigger replaced (relevant, irrelevant, typos, garbage)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: SEEDS.length - 1 }), triggerValue, async (seedIndex, trigger) => {
        const json = { ...(SEEDS[seedIndex] as Record<string, Json>), trigger };
        const outcome = await send(post(JSON.stringify(json)));
        expectAgreesWithNormalizer(json, outcome);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });

  it('arbitrary JSON, also shaped like a notification', async () => {
    const shaped = fc.record({ trigger: triggerValue, rollout: anyJson }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, shaped as fc.Arbitrary<Json>), async (json) => {
        const outcome = await send(post(JSON.stringify(json)));
        expectAgreesWithNormalizer(JSON.parse(JSON.stringify(json)), outcome);
      }),
      { seed: SEED, numRuns: 2_500 },
    );
  });

  it('random strings and random bytes (plain and base64 bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }).map((text) => ({ text, base64: false })),
          fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, base64: true })),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes })),
        ),
        async (input) => {
          const event =
            'bytes' in input
              ? { ...post(''), body: Buffer.from(input.bytes).toString('base64'), isBase64Encoded: true }
              : post(input.text, { base64: input.base64 });
          const { response } = await send(event);
          assert.ok([202, 400, 422].includes(response.statusCode), response.body);
        },
      ),
      { seed: SEED, numRuns: 1_750 },
    );
  });

  it('bodies around and above the size limit', async () => {
    const valid = JSON.stringify(SEEDS[0]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -64, max: 3 * MAX_BODY_BYTES }),
        fc.boolean(),
        fc.constantFrom(' ', 'é', '\u{1F680}'),
        async (over, base64, pad) => {
          // A valid body padded with whitespace or a trailing string to MAX_BODY_BYTES + over bytes.
          const target = MAX_BODY_BYTES + over;
          const padBytes = Buffer.byteLength(pad);
          const room = Math.max(0, target - Buffer.byteLength(valid) - (pad === ' ' ? 0 : 20));
          const body =
            pad === ' '
              ? valid + ' '.repeat(room)
              : `{"pad":"${pad.repeat(Math.floor(room / padBytes))}",${valid.slice(1)}`;
          const bytes = Buffer.byteLength(body);
          const { response } = await send(post(body, { base64 }));
          if (bytes > MAX_BODY_BYTES) expect(response.statusCode).toBe(413);
          else expect(response.statusCode).toBe(202);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('random requests: methods, credentials, clusters, encodings', async () => {
    // The tokens speak for cluster prod: a request may name prod, or nothing.
    const bound = testHandler({ clock, cluster: 'prod' });
    const request = fc.record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'post', 'GET', 'PUT', 'HEAD', 'OPTIONS', 'DELETE'),
      authorization: fc.oneof(
        fc.constant(`Bearer ${CURRENT_TOKEN}`),
        fc.constant(`bearer ${PREVIOUS_TOKEN}`),
        fc.constant(undefined),
        fc.string({ maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 60 }).map((token) => `Bearer ${token}`),
        fc.nat({ max: CURRENT_TOKEN.length - 1 }).map((index) => {
          const flipped = CURRENT_TOKEN[index] === 'a' ? 'b' : 'a';
          return `Bearer ${CURRENT_TOKEN.slice(0, index)}${flipped}${CURRENT_TOKEN.slice(index + 1)}`;
        }),
      ),
      cluster: fc.option(
        fc.oneof(fc.constantFrom('prod', 'prod-eu_1', 'Prod', ''), fc.string({ maxLength: 120 })),
        {
          nil: undefined,
        },
      ),
      base64: fc.boolean(),
      seedIndex: fc.nat({ max: SEEDS.length - 1 }),
      mutations: fc.array(mutation, { maxLength: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const json = mutate(SEEDS[input.seedIndex] as Json, input.mutations);
        const event = functionUrlEvent({
          method: input.method,
          body: JSON.stringify(json),
          base64: input.base64,
          ...(input.authorization === undefined ? { token: null } : { authorization: input.authorization }),
          ...(input.cluster === undefined ? {} : { query: { cluster: input.cluster } }),
        });
        const { response, published } = await send(event, bound.invoke);
        const authorized =
          input.authorization !== undefined &&
          /^bearer +(\S+) *$/i.exec(input.authorization)?.[1] !== undefined &&
          [CURRENT_TOKEN, PREVIOUS_TOKEN].includes(/^bearer +(\S+) *$/i.exec(input.authorization)?.[1] ?? '');
        if (input.method.toUpperCase() !== 'POST') expect(response.statusCode).toBe(405);
        else if (!authorized) expect(response.statusCode).toBe(401);
        else if (input.cluster !== undefined && !/^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/.test(input.cluster)) {
          expect(response.statusCode).toBe(400);
        } else if (input.cluster !== undefined && input.cluster !== 'prod') {
          expect(response.statusCode).toBe(401);
        } else {
          expect([202, 422]).toContain(response.statusCode);
          if (published[0]) expect(published[0].cluster).toBe('prod');
        }
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });

  it('EventBridge failing at random: never a 2xx for an unpublished event', async () => {
    const body = JSON.stringify(SEEDS[1]);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('ok', 'throws', 'failed-entry', 'failed-once'),
          async (behaviour) => {
            events.reset();
            if (behaviour === 'ok')
              events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
            if (behaviour === 'throws') events.on(PutEventsCommand).rejects(new Error('socket hang up'));
            if (behaviour === 'failed-entry') {
              events
                .on(PutEventsCommand)
                .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
            }
            if (behaviour === 'failed-once') {
              events
                .on(PutEventsCommand)
                .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
                .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
            }
            runs++;
            const response = await invoke(post(body));
            const delivered =
              behaviour === 'ok' || behaviour === 'failed-once' ? 'published' : 'not published';
            expect(response.statusCode).toBe(delivered === 'published' ? 202 : 503);
          },
        ),
        { seed: SEED, numRuns: 100 },
      );
    } finally {
      events.reset();
      capturePutEvents();
    }
  });
});
