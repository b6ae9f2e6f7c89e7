import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../cli/duration.js';
import { eventFromFlags } from '../../cli/event-input.js';
import { EXIT, runCli } from '../../cli/program.js';
import { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import {
  CHECKOUT_ARN_FLAGS,
  CHECKOUT_CANARY_TG,
  CHECKOUT_LB,
  CHECKOUT_STABLE_TG,
  mockCheckoutAlb,
} from '../support/alb-mock.js';
import { captureCliIo } from '../support/cli-io.js';
import { eventBridgeEnvelope, rolloutEvent } from '../support/rollout-events.js';

const elb = mockClient(ElasticLoadBalancingV2Client);
const albAt = (canary: number, stable: number, canaryState?: 'healthy' | 'unhealthy') =>
  mockCheckoutAlb(elb, { canary, stable, canaryState });
const VERIFY_CHECKOUT = [
  'verify',
  '--rollout',
  'shop/checkout',
  '--canary-weight',
  '20',
  ...CHECKOUT_ARN_FLAGS,
  '--region',
  'eu-west-1',
];

const io = captureCliIo;

beforeEach(() => {
  elb.reset();
});

describe('rollout-verifier --version', () => {
  it.each(['--version', '-V'])('%s prints the package version and exits 0', async (flag) => {
    const { io: cli, stdout } = io();
    expect(await runCli([flag], cli)).toBe(0);
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(stdout()).toBe(`${manifest.version}\n`);
  });
});

describe('rollout-verifier verify (flags form)', () => {
  it('exits 0 and prints a readable report when the ALB carries the split', async () => {
    albAt(20, 80);
    const run = io();
    const code = await runCli(VERIFY_CHECKOUT, run.io);
    expect(code).toBe(EXIT.Succeeded);
    expect(run.stdout()).toContain('✔ Succeeded  shop/checkout step 0: expected canary 20 / stable 80');
    expect(run.stdout()).toContain('listener rule priority 1 on HTTPS:443');
  });

  it('exits 1 with a findings table when the split stays wrong', async () => {
    albAt(0, 100);
    const run = io();
    const code = await runCli([...VERIFY_CHECKOUT, '--timeout', '1s'], run.io);
    expect(code).toBe(EXIT.Failed);
    expect(run.stdout()).toMatch(/FINDING\s+RESOURCE\s+EXPECTED\s+OBSERVED/);
    expect(run.stdout()).toMatch(
      /WeightMismatch\s+arn:aws:elasticloadbalancing:\S+listener-rule\S+\s+canary 20 \/ stable 80\s+canary 0 \/ stable 100/,
    );
  });

  it('--json prints exactly the verdict event detail', async () => {
    albAt(20, 80, 'unhealthy');
    const run = io();
    const code = await runCli([...VERIFY_CHECKOUT, '--timeout', '1', '--json'], run.io);
    expect(code).toBe(EXIT.Failed);
    const verdict = VerdictEventDetail.strict().parse(JSON.parse(run.stdout()));
    expect(verdict.findings.map((finding) => finding.code)).toEqual([
      'InsufficientHealthyTargets',
      'UnhealthyTargets',
    ]);
  });

  it('exits 2 when the verifier may not look', async () => {
    elb.on(DescribeListenersCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:DescribeListeners'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const run = io();
    const code = await runCli(VERIFY_CHECKOUT, run.io);
    expect(code).toBe(EXIT.Inconclusive);
    expect(run.stdout()).toContain('elasticloadbalancing:DescribeListeners');
  });

  it.each([
    [
      [
        'verify',
        '--rollout',
        'shop/checkout',
        '--cluster',
        'prod',
        '--kubeconfig',
        '/nonexistent/kubeconfig',
      ],
      '--rollout without --canary-weight reads the Rollout from the cluster, but cannot read the kubeconfig',
    ],
    [
      ['verify', '--rollout', 'checkout', '--canary-weight', '20', '--cluster', 'prod'],
      '--rollout: must be namespace/name',
    ],
    [
      ['verify', '--rollout', 'shop/Checkout', '--canary-weight', '20', '--cluster', 'prod'],
      '--rollout (name): must be a DNS-1123',
    ],
    [
      ['verify', '--rollout', 'shop/checkout', '--canary-weight', 'twenty', '--cluster', 'prod'],
      '--canary-weight: must be a whole number',
    ],
    [['verify', '--rollout', 'shop/checkout', '--canary-weight', '20'], 'say where to look'],
    [
      [
        'verify',
        '--rollout',
        'shop/checkout',
        '--canary-weight',
        '20',
        '--cluster',
        'prod',
        '--timeout',
        'soon',
      ],
      '--timeout: "soon"',
    ],
    [
      ['verify', '--rollout', 'shop/checkout', '--canary-weight', '20', '--load-balancer-arn', CHECKOUT_LB],
      '--stable-target-group-arn',
    ],
    [
      [
        'verify',
        '--rollout',
        'shop/checkout',
        '--canary-weight',
        '20',
        '--cluster',
        'prod',
        '--ingress',
        'Bad_Name',
      ],
      '--ingress: must be a DNS-1123',
    ],
    [['verify', '--bogus'], "unknown option '--bogus'"],
  ])('exits 64 naming the bad field: %j', async (argv, message) => {
    const run = io();
    expect(await runCli(argv, run.io)).toBe(EXIT.usage);
    expect(run.stderr()).toContain(message);
    expect(elb.calls()).toHaveLength(0);
  });
});

describe('rollout-verifier verify --event', () => {
  it('reads the normalized detail or the whole EventBridge event, from a file or stdin', async () => {
    albAt(20, 80);
    const withArns = rolloutEvent({
      traffic: {
        router: 'alb',
        ingresses: [
          {
            ingress: 'checkout',
            loadBalancerArn: CHECKOUT_LB,
            stableTargetGroupArn: CHECKOUT_STABLE_TG,
            canaryTargetGroupArn: CHECKOUT_CANARY_TG,
          },
        ],
        stableService: 'checkout',
        canaryService: 'checkout-canary',
        servicePort: 80,
      },
    });
    const file = join(tmpdir(), `rollout-event-${process.pid}.json`);
    await writeFile(file, JSON.stringify(eventBridgeEnvelope(withArns)));
    expect(await runCli(['verify', '--event', file, '--region', 'eu-west-1'], io().io)).toBe(EXIT.Succeeded);

    const run = io(JSON.stringify(withArns));
    expect(await runCli(['verify', '--event', '-', '--json', '--region', 'eu-west-1'], run.io)).toBe(
      EXIT.Succeeded,
    );
    expect(JSON.parse(run.stdout())).toMatchObject({ eventId: withArns.eventId, verdict: 'Succeeded' });
  });

  it('normalizes an Argo notification body and names its bad field', async () => {
    const body = JSON.parse(
      await readFile(new URL('../fixtures/notifications/invalid-bad-revision.json', import.meta.url), 'utf8'),
    );
    const run = io(JSON.stringify(body));
    expect(await runCli(['verify', '--event', '-', '--region', 'eu-west-1'], run.io)).toBe(EXIT.usage);
    expect(run.stderr()).toContain('rollout.metadata.annotations["rollout.argoproj.io/revision"]');
  });

  it('verifies straight from the notification body Argo posts', async () => {
    const body = JSON.parse(
      await readFile(
        new URL('../fixtures/notifications/alb-step-completed-setweight.json', import.meta.url),
        'utf8',
      ),
    );
    const run = io(JSON.stringify(body));
    const code = await runCli(
      ['verify', '--event', '-', '--cluster', 'prod', '--timeout', '1', '--json', '--region', 'eu-west-1'],
      run.io,
    );
    const verdict = JSON.parse(run.stdout());
    // step 2 (setWeight 40) just completed; this mocked account has no load balancer for the rollout
    expect(verdict).toMatchObject({
      rollout: { namespace: 'shop', name: 'checkout' },
      step: { index: 2 },
      expected: { canaryWeight: 40, stableWeight: 60 },
      deadlineSeconds: 1,
    });
    expect(code).toBe(EXIT.Inconclusive);
  });

  it.each([
    ['not json', 'is not JSON'],
    ['{"schemaVersion": 1}', 'not a valid rollout event: eventId'],
  ])('exits 64 on bad input %s', async (stdin, message) => {
    const run = io(stdin);
    expect(await runCli(['verify', '--event', '-', '--region', 'eu-west-1'], run.io)).toBe(EXIT.usage);
    expect(run.stderr()).toContain(message);
  });
});

describe('CLI helpers', () => {
  it.each([
    ['45', 45],
    ['30s', 30],
    ['2m', 120],
    ['1m30s', 90],
    ['1h', 3600],
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
  ])('parses the duration %s', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it('derives the stable weight and services from the flags', () => {
    const event = eventFromFlags({ rollout: 'shop/checkout', canaryWeight: '20', cluster: 'prod' });
    expect(event.expected).toMatchObject({ canaryWeight: 20, stableWeight: 80, minHealthyCanaryTargets: 1 });
    expect(event.traffic).toMatchObject({
      stableService: 'checkout',
      canaryService: 'checkout-canary',
      servicePort: 80,
    });
  });
});
