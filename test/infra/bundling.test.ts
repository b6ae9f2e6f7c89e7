import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { ParseError } from '@aws-lambda-powertools/parser/errors';
import { Template } from 'aws-cdk-lib/assertions';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as zod from 'zod';
import {
  BUNDLE_BUDGET_BYTES,
  bundleBudget,
  FUNCTION_ENV,
  zodMembersReadBy,
  zodStandInMembers,
} from '../../bench/bundles.js';
import { BUNDLE_SUBSTITUTES, LAMBDA_BUNDLE } from '../../lib/bundling.js';
import { RolloutVerifierStack } from '../../lib/rollout-verifier-stack.js';
import { PROJECT_ROOT } from '../../lib/settings.js';
import { existingHandlers, type LambdaName, lambdaBuildOptions } from '../../scripts/lambda-bundles.js';
import { cleanup, testApp } from './helpers.js';

/**
 * The one test that runs esbuild: CDK bundles every function whose handler exists, once; each
 * bundle must equal what bench/bundles.ts builds from the same options (so the benchmark measures
 * what is deployed), be one ESM file that starts on Node 24, stay within its size budget, and
 * read no zod member the zod stand-in lacks.
 */

interface Bundle {
  name: LambdaName;
  file: string;
  code: string;
}

const handlers = existingHandlers();
let bundles: Bundle[] = [];

beforeAll(async () => {
  const app = testApp({ bundle: true });
  // A cluster: the drift sentinel (which reads live Rollouts) is only created with one.
  const stack = new RolloutVerifierStack(app, 'Bundled', { verifier: { clusterName: 'bundled' } });
  const assembly = app.synth();
  const assets = readdirSync(assembly.directory)
    .filter((entry) => entry.startsWith('asset.'))
    .map((entry) => join(assembly.directory, entry))
    .filter((dir) => readdirSync(dir).includes(LAMBDA_BUNDLE.outputFile));
  Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', handlers.length);

  // The same handlers built through the esbuild API with lib/bundling.ts's options, in memory.
  const built = await Promise.all(
    handlers.map(async ({ name, entry }) => {
      const result = await esbuild.build({
        ...lambdaBuildOptions(entry, `/${name}/index.mjs`),
        write: false,
      });
      return { name, code: result.outputFiles?.[0]?.text ?? '' };
    }),
  );
  bundles = assets.map((dir) => {
    const file = join(dir, LAMBDA_BUNDLE.outputFile);
    const code = readFileSync(file, 'utf8');
    const same = built.find((candidate) => candidate.code === code);
    return {
      name: same?.name ?? (`unmatched ${relative(assembly.directory, dir)}` as LambdaName),
      file,
      code,
    };
  });
}, 60_000);

afterAll(cleanup);

test('CDK bundles every existing handler once, byte for byte what the benchmark builds', () => {
  expect(bundles.map((bundle) => bundle.name).sort()).toEqual(handlers.map((handler) => handler.name).sort());
});

describe.each(handlers.map((handler) => handler.name))('the %s bundle', (name) => {
  const bundle = () => {
    const found = bundles.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`no CDK asset matches the ${name} bundle`);
    return found;
  };

  test('is one minified ESM file with the AWS SDK inside', () => {
    const { code, file } = bundle();
    expect(readdirSync(dirname(file))).toEqual([LAMBDA_BUNDLE.outputFile]);
    // Booleans, not toMatch: a failure must not print a 600 KB string.
    expect(code.startsWith(LAMBDA_BUNDLE.banner), 'createRequire banner first').toBe(true);
    expect(/export\{[^}]*\bas handler\b[^}]*\}/.test(code), 'ESM export of handler').toBe(true);
    expect(/module\.exports\s*=/.test(code), 'CommonJS export').toBe(false);
    expect(/from\s*["']@aws-sdk\//.test(code), 'external @aws-sdk import').toBe(false);
    expect(/from\s*["']zod["']/.test(code), 'external zod import').toBe(false);
    expect(code.split('\n').length).toBeLessThan(500);
  });

  test('stays within its size budget', () => {
    const bytes = Buffer.byteLength(bundle().code);
    console.log(
      `${name} bundle: ${bytes} bytes (budget ${bundleBudget(name)}, target ${BUNDLE_BUDGET_BYTES})`,
    );
    expect(bytes).toBeLessThanOrEqual(bundleBudget(name));
  });

  test('starts on Node 24 with the environment the stack gives it', () => {
    expect(process.version).toMatch(/^v24\./);
    const loaded = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(bundle().file).href)}); console.log(typeof m.handler);`,
      ],
      { env: { PATH: process.env.PATH, ...FUNCTION_ENV }, encoding: 'utf8' },
    );
    expect(loaded.trim()).toBe('function');
  });

  test('reads only zod members the zod stand-in provides', async () => {
    const entry = handlers.find((handler) => handler.name === name)?.entry ?? '';
    const offered = await zodStandInMembers();
    const missing = (await zodMembersReadBy(entry)).filter((member) => !offered.includes(member));
    expect(missing, `add these to lib/bundle-shims/zod.mjs: ${missing.join(', ')}`).toEqual([]);
  });
});

describe('bundle-time stand-ins (lib/bundle-shims) behave as the packages they replace', () => {
  test('zod: the same named exports, and z members that are zod’s own', async () => {
    const standIn = (await import(pathToFileURL(BUNDLE_SUBSTITUTES.zod ?? '').href)) as Record<
      string,
      unknown
    > & { z: Record<string, unknown> };
    expect(Object.keys(standIn).sort()).toEqual(Object.keys(zod).sort());
    expect(standIn.default).toBe(standIn.z);
    for (const [member, value] of Object.entries(standIn.z)) {
      expect(value, `z.${member}`).toBe((zod.z as unknown as Record<string, unknown>)[member]);
    }
    // The relative path inside the stand-in is the zod package everything else resolves.
    const zodPackage = realpathSync(dirname(fileURLToPath(import.meta.resolve('zod'))));
    expect(realpathSync(join(PROJECT_ROOT, 'node_modules/zod'))).toBe(zodPackage);
  });

  test('credential chain: the same exports, and in Lambda (credentials in the environment) the same credentials', async () => {
    const standIn = (await import(
      pathToFileURL(BUNDLE_SUBSTITUTES['@aws-sdk/credential-provider-node'] ?? '').href
    )) as typeof import('@aws-sdk/credential-provider-node');
    const packaged = await import('@aws-sdk/credential-provider-node');
    // The package loads as CommonJS here: its interop keys are not exports esbuild would resolve.
    const named = (module: object) =>
      Object.keys(module)
        .filter((key) => key !== 'default' && key !== 'module.exports')
        .sort();
    expect(named(standIn)).toEqual(named(packaged));
    const lambdaEnvironment = {
      AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE00',
      AWS_SECRET_ACCESS_KEY: 'secret/example',
      AWS_SESSION_TOKEN: 'session-token-example',
    };
    const previous = Object.fromEntries(Object.keys(lambdaEnvironment).map((key) => [key, process.env[key]]));
    Object.assign(process.env, lambdaEnvironment);
    try {
      const ours = await standIn.defaultProvider()();
      const theirs = await packaged.defaultProvider()();
      expect(ours).toEqual(theirs);
      expect(ours).toMatchObject({
        accessKeyId: 'ASIAEXAMPLEEXAMPLE00',
        sessionToken: 'session-token-example',
      });
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const soon = { accessKeyId: 'a', secretAccessKey: 's', expiration: new Date(Date.now() + 60_000) };
    expect(standIn.credentialsTreatedAsExpired(soon)).toBe(packaged.credentialsTreatedAsExpired(soon));
    expect(standIn.credentialsWillNeedRefresh(soon)).toBe(packaged.credentialsWillNeedRefresh(soon));
  });

  test('EventBridge envelope: mirrors the installed Powertools envelope', () => {
    const packaged = readFileSync(
      fileURLToPath(import.meta.resolve('@aws-lambda-powertools/parser/envelopes/eventbridge')),
    );
    const standIn = readFileSync(
      BUNDLE_SUBSTITUTES['@aws-lambda-powertools/parser/envelopes/eventbridge'] ?? '',
      'utf8',
    );
    const sha256 = createHash('sha256').update(packaged).digest('hex');
    expect(
      standIn.includes(sha256),
      'Powertools changed envelopes/eventbridge.js: re-check lib/bundle-shims/eventbridge-envelope.mjs against it, then update the sha256 in its header',
    ).toBe(true);
  });

  test('EventBridge envelope: the same answers as Powertools', async () => {
    const { EventBridgeEnvelope: standIn } = (await import(
      pathToFileURL(BUNDLE_SUBSTITUTES['@aws-lambda-powertools/parser/envelopes/eventbridge'] ?? '').href
    )) as { EventBridgeEnvelope: typeof EventBridgeEnvelope };
    const discriminator = Symbol.for('returnType');
    expect((standIn as unknown as Record<symbol, unknown>)[discriminator]).toBe(
      (EventBridgeEnvelope as unknown as Record<symbol, unknown>)[discriminator],
    );

    const detail = zod.object({ eventId: zod.string(), weight: zod.number().int() });
    const event = {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'Rollout Step Completed',
      source: 'rollout-verifier.ingest',
      account: '123456789012',
      time: '2025-11-03T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: { eventId: 'e-1', weight: 20 },
    };
    const cases: unknown[] = [
      event,
      { ...event, 'replay-name': 'replay' },
      { ...event, detail: { eventId: 'e-1', weight: 'twenty' } },
      { ...event, time: 'yesterday' },
      { detail: event.detail },
      'not an event',
    ];
    for (const input of cases) {
      const expected = EventBridgeEnvelope.safeParse(input, detail);
      const actual = standIn.safeParse(input, detail);
      expect(actual.success).toBe(expected.success);
      if (expected.success && actual.success) expect(actual.data).toEqual(expected.data);
      if (!expected.success && !actual.success) {
        expect(actual.error).toBeInstanceOf(ParseError);
        expect(actual.error.message).toBe(expected.error.message);
        expect(String(actual.error.cause)).toBe(String(expected.error.cause));
        expect(actual.originalEvent).toBe(expected.originalEvent);
      }
      const parse = (envelope: typeof EventBridgeEnvelope) => {
        try {
          return { value: envelope.parse(input, detail) };
        } catch (error) {
          return { error: error instanceof ParseError ? `${error.message}: ${String(error.cause)}` : error };
        }
      };
      expect(parse(standIn)).toEqual(parse(EventBridgeEnvelope));
    }
  });
});

describe('bundle-time stand-ins for code our functions never run', () => {
  /** The JMESPath package Powertools idempotency resolves (nested in its node_modules). */
  async function packagedJmespath() {
    const fromIdempotency = createRequire(
      fileURLToPath(import.meta.resolve('@aws-lambda-powertools/idempotency')),
    );
    const functionsPath = fromIdempotency.resolve('@aws-lambda-powertools/jmespath/functions');
    return {
      jmespath: fromIdempotency('@aws-lambda-powertools/jmespath') as {
        search: (expression: string, data: unknown, options?: unknown) => unknown;
      },
      functions: (await import(pathToFileURL(functionsPath).href)) as Record<string, unknown>,
    };
  }
  const standIn = async (specifier: string) =>
    (await import(pathToFileURL(BUNDLE_SUBSTITUTES[specifier] ?? '').href)) as Record<string, unknown>;

  test('JMESPath: the same answers as the package for the dotted paths our idempotency keys use', async () => {
    const { jmespath } = await packagedJmespath();
    const { search } = (await standIn('@aws-lambda-powertools/jmespath')) as {
      search: (expression: string, data: unknown) => unknown;
    };
    const events: unknown[] = [
      { detail: { eventId: 'evt-1', verdictId: 'v-1' } },
      { detail: { eventId: 7 } },
      { detail: { eventId: null } },
      { detail: { eventId: { nested: true } } },
      { detail: 'not an object' },
      { detail: [{ eventId: 'in a list' }] },
      { other: 1 },
      null,
      'text',
    ];
    for (const expression of ['detail.eventId', 'detail.verdictId', 'detail', 'missing.field']) {
      for (const event of events) {
        expect(search(expression, event), `${expression} of ${JSON.stringify(event)}`).toEqual(
          jmespath.search(expression, event),
        );
      }
    }
    // Anything else is refused, never evaluated differently.
    expect(() => search('powertools_json(body).id', {})).toThrow(/dotted field paths only/);
    expect(() => search('detail.items[0]', {})).toThrow(/dotted field paths only/);
  });

  test('JMESPath: the functions export idempotency builds exists in both', async () => {
    const { functions } = await packagedJmespath();
    const ours = await standIn('@aws-lambda-powertools/jmespath/functions');
    expect(Object.keys(ours)).toEqual(['PowertoolsFunctions']);
    expect(typeof functions.PowertoolsFunctions).toBe('function');
  });

  test('event streams: the SDK imports the names the stand-in has, and none of our clients streams events', async () => {
    const ours = await standIn('@smithy/core/event-streams');
    const packaged = (await import('@smithy/core/event-streams')) as Record<string, unknown>;
    expect(Object.keys(ours).sort()).toEqual(['EventStreamSerde', 'eventStreamSerdeProvider']);
    for (const name of Object.keys(ours)) expect(typeof packaged[name], name).toBe('function');
    const httpProtocol = readFileSync(
      join(PROJECT_ROOT, 'node_modules/@smithy/core/dist-es/submodules/protocols/HttpProtocol.js'),
      'utf8',
    );
    expect(httpProtocol).toContain(
      'const { EventStreamSerde, eventStreamSerdeProvider } = await import("@smithy/core/event-streams");',
    );
    // A client with an event-stream operation configures a serde provider for it.
    const clients = readdirSync(join(PROJECT_ROOT, 'node_modules/@aws-sdk')).filter((name) =>
      name.startsWith('client-'),
    );
    expect(clients).toEqual(expect.arrayContaining(['client-elastic-load-balancing-v2', 'client-dynamodb']));
    for (const client of clients) {
      const runtimeConfig = join(PROJECT_ROOT, 'node_modules/@aws-sdk', client, 'dist-es/runtimeConfig.js');
      expect(existsSync(runtimeConfig), runtimeConfig).toBe(true);
      expect(readFileSync(runtimeConfig, 'utf8'), client).not.toMatch(/eventStream/i);
    }
  });
});
