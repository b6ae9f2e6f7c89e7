import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../cli/program.js';
import { RolloutEventDetail } from '../../lambdas/core/contracts/rollout-event.js';
import { normalizeNotification } from '../../lambdas/core/normalize/index.js';
import { captureCliIo } from '../support/cli-io.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/notifications');
const fixturePath = (name: string) => join(FIXTURES, name);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-normalize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], stdin = '') {
  const io = captureCliIo(stdin);
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** The parts of the event that do not depend on when it was normalized. */
const withoutReceivedAt = ({ receivedAt: _, ...rest }: RolloutEventDetail) => rest;

describe('rollout-verifier normalize', () => {
  it('prints the normalized event of a valid body (exactly what the endpoint publishes), exit 0', async () => {
    const path = fixturePath('alb-step-completed-setweight.json');
    const { code, stdout, stderr } = await run(['normalize', '--body', path]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const printed = RolloutEventDetail.parse(JSON.parse(stdout));
    const expected = normalizeNotification(readFileSync(path, 'utf8'), { receivedAt: new Date() });
    expect(withoutReceivedAt(printed)).toEqual(withoutReceivedAt(expected));
    expect(printed).not.toHaveProperty('cluster');
    expect(stdout.endsWith('}\n')).toBe(true);
  });

  it('--cluster stamps the cluster', async () => {
    const { code, stdout } = await run([
      'normalize',
      '--body',
      fixturePath('bluegreen-paused-before-promotion.json'),
      '--cluster',
      'prod-eu',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ cluster: 'prod-eu', strategy: 'blueGreen' });
  });

  it('reads standard input with --body -', async () => {
    const body = readFileSync(fixturePath('alb-aborted.json'), 'utf8');
    const { code, stdout } = await run(['normalize', '--body', '-'], body);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ trigger: 'on-rollout-aborted', aborted: true });
  });

  it('prints the exact validation error, one failing path per line, exit 64', async () => {
    const { code, stdout, stderr } = await run([
      'normalize',
      '--body',
      fixturePath('invalid-wrong-types.json'),
    ]);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      [
        'rollout-verifier: Invalid Argo Rollouts notification (on-rollout-step-completed, rollout shop/checkout): 4 problems',
        '  - rollout.spec.replicas: Invalid input: expected number, received string (received "10")',
        '  - rollout.spec.strategy.canary.steps[2].setWeight: Invalid input: expected number, received string (received "40")',
        '  - rollout.status.currentStepIndex: Invalid input: expected number, received string (received "2")',
        '  - rollout.status.canary.weights.verified: Invalid input: expected boolean, received string (received "true")',
        '(the ingest endpoint answers HTTP 422 and publishes nothing)',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['invalid-missing-uid.json', '  - rollout.metadata.uid: is required'],
    [
      'invalid-bad-revision.json',
      '  - rollout.metadata.annotations["rollout.argoproj.io/revision"]: must be a decimal integer, e.g. "3" (received "v5")',
    ],
  ])('%s names its path', async (name, line) => {
    const { code, stderr } = await run(['normalize', '--body', fixturePath(name)]);
    expect(code).toBe(EXIT.usage);
    expect(stderr.split('\n')).toContain(line);
  });

  it('bad JSON → exit 64 naming the input', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"trigger": "on-rollout-updated", "rollout": {,}');
    const fromFile = await run(['normalize', '--body', file]);
    expect(fromFile.code).toBe(EXIT.usage);
    expect(fromFile.stdout).toBe('');
    expect(fromFile.stderr).toMatch(
      new RegExp(`^rollout-verifier: --body: ${file} is not JSON \\(HTTP 400\\): `),
    );
    const fromStdin = await run(['normalize', '--body', '-'], 'trigger: on-rollout-updated');
    expect(fromStdin.code).toBe(EXIT.usage);
    expect(fromStdin.stderr).toMatch(/^rollout-verifier: --body: standard input is not JSON/);
  });

  it('a trigger the verifier does not act on: nothing on stdout, a note on stderr, exit 0 (the endpoint answers 202)', async () => {
    const body = JSON.stringify({ trigger: 'on-analysis-run-failed', rollout: {} });
    const { code, stdout, stderr } = await run(['normalize', '--body', '-'], body);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'rollout-verifier: ignored: trigger "on-analysis-run-failed" is not one the verifier acts on.\n' +
        'The ingest endpoint answers 202 {"accepted": false} and publishes nothing.\n',
    );
  });

  it('a misspelt trigger gets a suggestion', async () => {
    const body = JSON.stringify({ trigger: 'on-rollout-abort', rollout: {} });
    const { code, stderr } = await run(['normalize', '--body', '-'], body);
    expect(code).toBe(0);
    expect(stderr).toMatch(/unknown trigger "on-rollout-abort" \(did you mean "on-rollout-aborted"\?\)/);
  });

  it('a body over the endpoint limit → exit 64 (the endpoint answers 413)', async () => {
    const file = join(dir, 'huge.json');
    await writeFile(file, `{"trigger":"on-rollout-updated","pad":"${'x'.repeat(300_000)}"}`);
    const { code, stderr } = await run(['normalize', '--body', file]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/accepts at most 262144 \(HTTP 413\)/);
  });

  it('usage errors: no --body, an unreadable file, a bad --cluster', async () => {
    expect((await run(['normalize'])).code).toBe(EXIT.usage);
    const missing = await run(['normalize', '--body', join(dir, 'nope.json')]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/--body: cannot read .*nope\.json/);
    const cluster = await run([
      'normalize',
      '--body',
      fixturePath('alb-paused.json'),
      '--cluster',
      'prod eu',
    ]);
    expect(cluster.code).toBe(EXIT.usage);
    expect(cluster.stderr).toMatch(/--cluster must be an EKS cluster name/);
  });
});
