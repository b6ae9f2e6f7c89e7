import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { endpointFromKubeconfig } from '../../cli/kubeconfig.js';
import { EXIT, runCli } from '../../cli/program.js';
import { rolloutObject } from '../../sim/kube/fixtures.js';
import { generateClusterCertificates, type KubeSim, startKubeSim } from '../../sim/kube/index.js';
import { captureCliIo } from '../support/cli-io.js';
import { rolloutEvent } from '../support/rollout-events.js';

/**
 * `rollout-verifier verify` for an Istio rollout: the VirtualService is read over HTTPS from the
 * loopback API server, reached through a kubeconfig (server, CA data, token) as kubectl would.
 */

let sim: KubeSim;
let dir: string;
let kubeconfig: string;

const istioEvent = (canaryWeight: number) =>
  rolloutEvent({
    expected: { canaryWeight, stableWeight: 100 - canaryWeight, derivation: `setWeight ${canaryWeight}` },
    traffic: {
      router: 'istio',
      virtualServices: [{ name: 'reviews', routes: ['primary'] }],
      stableService: 'reviews',
      canaryService: 'reviews-canary',
    },
  });

function virtualService(canary: number) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'shop' },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host: 'reviews' }, weight: 100 - canary },
            { destination: { host: 'reviews-canary' }, weight: canary },
          ],
        },
      ],
    },
  };
}

beforeAll(async () => {
  sim = await startKubeSim({ certificates: await generateClusterCertificates(), token: 'laptop-token' });
  dir = mkdtempSync(join(tmpdir(), 'rollout-verifier-cli-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'prod',
      clusters: [
        {
          name: 'prod',
          cluster: {
            server: sim.url,
            'certificate-authority-data': Buffer.from(sim.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'me', user: { token: 'laptop-token' } }],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'me' } }],
    }),
  );
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function verify(event: unknown) {
  const eventFile = join(dir, 'event.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const run = captureCliIo();
  const code = await runCli(
    ['verify', '--event', eventFile, '--kubeconfig', kubeconfig, '--timeout', '2s', '--json'],
    run.io,
  );
  return { code, verdict: run.stdout() ? JSON.parse(run.stdout()) : undefined, stderr: run.stderr() };
}

describe('rollout-verifier verify for Istio, through a kubeconfig', () => {
  it('Succeeded (exit 0) when the VirtualService carries the step weights', async () => {
    sim.put(virtualService(20));
    const { code, verdict } = await verify(istioEvent(20));
    expect(verdict).toMatchObject({ verdict: 'Succeeded', traffic: { router: 'istio' } });
    expect(code).toBe(EXIT.Succeeded);
    expect(
      sim.requests.some(
        (request) => request.path === '/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews',
      ),
    ).toBe(true);
  });

  it('Failed (exit 1) with the route named when it does not', async () => {
    sim.put(virtualService(0));
    const { code, verdict } = await verify(istioEvent(20));
    expect(code).toBe(EXIT.Failed);
    expect(verdict.findings).toEqual([
      expect.objectContaining({
        code: 'WeightMismatch',
        resource: expect.stringContaining('virtualservice/shop/reviews'),
      }),
    ]);
  });
});

/**
 * The Rollout as the API server holds it now, Istio-routed so no AWS is involved: paused at step 1
 * (pause 1m) after setWeight 20, or already at step 2 (setWeight 50) while its canary scales up.
 */
const liveRollout = (step: 'paused' | 'scaling') =>
  rolloutObject({
    spec: {
      strategy: {
        canary: {
          canaryService: 'reviews-canary',
          stableService: 'reviews',
          trafficRouting: { alb: null, istio: { virtualService: { name: 'reviews', routes: ['primary'] } } },
        },
      },
    },
    status:
      step === 'paused'
        ? { currentStepIndex: 1 }
        : {
            currentStepIndex: 2,
            pauseConditions: null,
            controllerPause: null,
            phase: 'Progressing',
            // setWeight 50 wants 3 of 6 replicas; the canary has 1.
            updatedReplicas: 1,
            replicas: 7,
            availableReplicas: 6,
          },
  });

async function run(args: string[], stdinText?: string) {
  const cli = captureCliIo(stdinText);
  const code = await runCli(['verify', ...args, '--timeout', '2s', '--json'], cli.io);
  return { code, verdict: cli.stdout() ? JSON.parse(cli.stdout()) : undefined, stderr: cli.stderr() };
}

describe('rollout-verifier verify on the live Rollout (--rollout ns/name, or kubectl get rollout -o json)', () => {
  it('reads the Rollout from the cluster and verifies where it is now: paused after setWeight 20', async () => {
    sim.put(liveRollout('paused'));
    sim.put(virtualService(20));
    const { code, verdict } = await run(['--rollout', 'shop/checkout', '--kubeconfig', kubeconfig]);
    expect(verdict).toMatchObject({
      verdict: 'Succeeded',
      expected: { canaryWeight: 20 },
      step: { index: 1 },
    });
    expect(code).toBe(EXIT.Succeeded);
    expect(sim.requests.map((request) => request.path)).toContain(
      '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout',
    );
  });

  it('a step whose canary is still scaling up: the previous weight, not the step’s (as Argo holds it)', async () => {
    sim.put(liveRollout('scaling'));
    sim.put(virtualService(20));
    const live = await run(['--rollout', 'shop/checkout', '--kubeconfig', kubeconfig]);
    expect(live.verdict).toMatchObject({ verdict: 'Succeeded', expected: { canaryWeight: 20 } });

    // kubectl get rollout -o json piped in: the same live reading.
    const piped = await run(
      ['--event', '-', '--kubeconfig', kubeconfig],
      JSON.stringify(liveRollout('scaling')),
    );
    expect(piped.verdict).toMatchObject({ verdict: 'Succeeded', expected: { canaryWeight: 20 } });
  });

  it('a Rollout that does not exist is a usage error naming it (exit 64)', async () => {
    const { code, stderr } = await run(['--rollout', 'shop/nope', '--kubeconfig', kubeconfig]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('rollout shop/nope does not exist in the cluster');
  });
});

describe('kubeconfig users', () => {
  it('runs the exec credential plugin (aws eks get-token) and reuses its token until it expires', async () => {
    const execConfig = join(dir, 'exec-config');
    writeFileSync(
      execConfig,
      stringify({
        'current-context': 'eks',
        clusters: [
          {
            name: 'eks',
            cluster: {
              server: sim.url,
              'certificate-authority-data': Buffer.from(sim.caPem).toString('base64'),
            },
          },
        ],
        users: [
          {
            name: 'eks',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1beta1',
                command: 'aws',
                args: ['eks', 'get-token', '--cluster-name', 'prod'],
                env: [{ name: 'AWS_PROFILE', value: 'platform' }],
              },
            },
          },
        ],
        contexts: [{ name: 'eks', context: { cluster: 'eks', user: 'eks' } }],
      }),
    );
    const runs: Array<{ command: string; args: string[]; profile?: string; info?: string }> = [];
    const endpoint = await endpointFromKubeconfig({
      path: execConfig,
      runPlugin: async (command, args, env) => {
        runs.push({ command, args, profile: env.AWS_PROFILE, info: env.KUBERNETES_EXEC_INFO });
        return JSON.stringify({
          kind: 'ExecCredential',
          status: {
            token: 'k8s-aws-v1.abc',
            expirationTimestamp: new Date(Date.now() + 14 * 60_000).toISOString(),
          },
        });
      },
    });
    expect(await endpoint.token()).toBe('k8s-aws-v1.abc');
    expect(await endpoint.token()).toBe('k8s-aws-v1.abc');
    expect(runs).toEqual([
      {
        command: 'aws',
        args: ['eks', 'get-token', '--cluster-name', 'prod'],
        profile: 'platform',
        info: JSON.stringify({
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          kind: 'ExecCredential',
          spec: { interactive: false },
        }),
      },
    ]);
  });

  it('refuses a cluster without a CA or with TLS verification off, naming it', async () => {
    const bad = join(dir, 'bad-config');
    writeFileSync(
      bad,
      stringify({
        'current-context': 'x',
        clusters: [{ name: 'x', cluster: { server: sim.url, 'insecure-skip-tls-verify': true } }],
        contexts: [{ name: 'x', context: { cluster: 'x', user: 'nobody' } }],
      }),
    );
    await expect(endpointFromKubeconfig({ path: bad })).rejects.toThrow(
      'kubeconfig cluster "x" skips TLS verification',
    );
    await expect(endpointFromKubeconfig({ path: bad, context: 'y' })).rejects.toThrow(
      `kubeconfig ${bad} has no context "y"`,
    );
  });
});
