import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ArgoVersion } from '../argo/controller.js';
import { LAB_REGION } from '../aws/moto.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import type { Lab } from '../lab.js';
import { sleep, waitFor } from '../runtime/processes.js';
import { LoadBalancerControllerStandIn } from '../standins/load-balancer-controller.js';
import { LAB_CLUSTER } from '../verifier/deployment.js';
import { podTemplate } from './objects.js';

export type Router = 'alb' | 'istio' | 'ambassador';

export interface ScenarioContext {
  lab: Lab;
  kube: KubeClient;
  namespace: string;
  rollout: string;
  note(what: string): void;
  /** Starts revision 2: a new image in the pod template. */
  newRevision(): Promise<void>;
  /** Resolves once the verifier has published `count` verdicts for this rollout. */
  verdictCount(count: number, timeoutMs?: number): Promise<void>;
}

export interface ScenarioOutcome {
  verdicts: string[];
  findings: string[];
  clusterActions: string[];
}

export interface LabScenario {
  name: string;
  argoVersion: ArgoVersion;
  router: Router;
  /** The scenario's own namespace; the Rollout's name. */
  namespace: string;
  rollout: string;
  /** What issue 14 says the right outcome is: a list of what is wrong with `outcome` (empty: ok). */
  judge(outcome: ScenarioOutcome): string[];
  /** Objects of revision 1 (namespace first). */
  objects(): KubeObject[];
  /** What happens after revision 1 is healthy; default: revision 2 starts. */
  drive?(context: ScenarioContext): Promise<void>;
  /** Ingress / VirtualService / DestinationRule / Mapping names whose state is captured. */
  watch: { ingress?: string; virtualService?: string; destinationRule?: string; mappings?: boolean };
  /** The load balancer controller stops reconciling the namespace before the new revision. */
  loadBalancerControllerStopped?: boolean;
  /** A canary's two sides as its routes name them (Services, subsets, or the base Mapping): for conformance records. */
  canarySides?: { stable: string; canary: string };
  /** How the rollout ends: promoted to revision 2 (default) or aborted. */
  ends?: 'healthy' | 'aborted';
}

export interface TimelineLine {
  atMs: number;
  rollout: string;
  what: string;
}

export interface ScenarioResult extends ScenarioOutcome {
  name: string;
  argoVersion: ArgoVersion;
  router: Router;
  ok: boolean;
  problems: string[];
  notifications: number;
  seconds: number;
  captureDir: string;
  timeline: TimelineLine[];
}

interface RolloutStatus {
  phase?: string;
  abort?: boolean;
  stableRS?: string;
  currentPodHash?: string;
  observedGeneration?: string;
  message?: string;
}

const rolloutStatus = async (kube: KubeClient, ns: string, name: string) => {
  const live = await kube.get('argoproj.io/v1alpha1', 'Rollout', name, ns);
  return { live, status: (live?.status ?? {}) as RolloutStatus };
};

/**
 * Runs one scenario against the running lab: applies its objects, waits for revision 1 to be
 * healthy, drives it, waits until the rollout has ended and the verifier is quiet, then reads what
 * happened from the deployment's records (verdict events on the bus, callback results) and keeps
 * the ground truth in `captureDir`: every notification body the controller posted, and every
 * distinct state of the routes (listener rules, VirtualService, DestinationRule, Mappings).
 */
export async function runScenario(
  lab: Lab,
  scenario: LabScenario,
  captureRoot: string,
): Promise<ScenarioResult> {
  const kube = lab.control.admin;
  const key = `${scenario.namespace}/${scenario.rollout}`;
  const captureDir = join(captureRoot, scenario.argoVersion, scenario.namespace);
  await mkdir(captureDir, { recursive: true });
  const started = Date.now();
  const timeline: TimelineLine[] = [];
  const note = (what: string) => timeline.push({ atMs: Date.now() - started, rollout: key, what });
  const problems: string[] = [];
  const sampler = startStateSampler(lab, scenario, join(captureDir, 'route-states.jsonl'));
  const notificationsBefore = lab.verifier.notifications.length;
  const invocationsBefore = lab.verifier.invocations.length;
  const verdictsBefore = lab.verifier.verdicts.length;
  const mine = () => ({
    notifications: lab.verifier.notifications
      .slice(notificationsBefore)
      .filter((record) => record.rollout === key),
    invocations: lab.verifier.invocations
      .slice(invocationsBefore)
      .filter((record) => rolloutOfEvent(record.event) === key),
    verdicts: lab.verifier.verdicts
      .slice(verdictsBefore)
      .filter((record) => rolloutOfEvent(record.event) === key),
  });

  const context: ScenarioContext = {
    lab,
    kube,
    namespace: scenario.namespace,
    rollout: scenario.rollout,
    note,
    async newRevision() {
      note('revision 2: new image in the pod template');
      await kube.mergePatch('argoproj.io/v1alpha1', 'Rollout', scenario.rollout, scenario.namespace, {
        spec: { template: podTemplate(scenario.rollout, `registry.lab.invalid/${scenario.rollout}:2`) },
      });
    },
    async verdictCount(count, timeoutMs = 120_000) {
      await waitFor(`${count} verdict(s) for ${key}`, async () => mine().verdicts.length >= count, {
        timeoutMs,
      });
    },
  };

  try {
    for (const object of scenario.objects()) await kube.apply(object);
    await waitFor(
      `${key} revision 1 healthy`,
      async () => {
        const { status } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
        return status.phase === 'Healthy';
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch(async (error: Error) => {
      const { status } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
      throw new Error(
        `${error.message} (phase ${status.phase ?? '?'}${status.message ? `: ${status.message}` : ''})`,
      );
    });
    note('revision 1 healthy');
    // Revision 1 is not part of the scenario's verdicts, but its notifications stay captured.
    await lab.verifier.quiet();
    const firstRevision = mine();
    const skip = {
      verdicts: firstRevision.verdicts.length,
      invocations: firstRevision.invocations.length,
    };
    if (scenario.drive) await scenario.drive(context);
    else await context.newRevision();
    const ends = scenario.ends ?? 'healthy';
    // Either end counts as the end; one that is not the expected one is a problem of its own.
    const ended = await waitFor(
      `${key} to end (promoted to revision 2, or aborted)`,
      async () => {
        const { live, status } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
        if (status.abort === true && status.phase === 'Degraded') return 'aborted' as const;
        const promoted =
          status.phase === 'Healthy' &&
          status.stableRS === status.currentPodHash &&
          String(status.observedGeneration) === String(live?.metadata.generation);
        return promoted ? ('healthy' as const) : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    ).catch(async (error: Error) => {
      const { status } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
      problems.push(
        `${error.message} (phase ${status.phase ?? '?'}${status.message ? `: ${status.message}` : ''})`,
      );
      return null;
    });
    if (ended && ended !== ends)
      problems.push(
        `the rollout ended ${ended === 'healthy' ? 'promoted' : 'aborted'}, expected ${ends === 'healthy' ? 'promoted' : 'aborted'}`,
      );
    note(
      `rollout ${ended === 'aborted' ? 'aborted' : ended === 'healthy' ? 'promoted to revision 2' : 'did not end'}`,
    );
    // Argo's last notifications (completed, aborted) and their verifications.
    let seen = -1;
    while (seen !== mine().notifications.length) {
      seen = mine().notifications.length;
      await lab.verifier.quiet();
      await sleep(2_000);
    }
    const records = mine();
    const verdictEvents = records.verdicts.slice(skip.verdicts);
    const callbacks = records.invocations.filter((record) => record.fn === 'callback' && record.ok).slice(0);
    const verdictIds = new Set(
      verdictEvents.map((record) => (record.event.detail as { verdictId: string }).verdictId),
    );
    const outcome: ScenarioOutcome = {
      verdicts: verdictEvents.map((record) => (record.event.detail as { verdict: string }).verdict),
      findings: [
        ...new Set(
          verdictEvents.flatMap((record) =>
            ((record.event.detail as { findings: Array<{ code: string }> }).findings ?? []).map(
              (finding) => finding.code,
            ),
          ),
        ),
      ],
      clusterActions: callbacks
        .filter((record) =>
          verdictIds.has(((record.event.detail ?? {}) as { verdictId?: string }).verdictId ?? ''),
        )
        .map((record) => (record.result as { action?: string } | null)?.action ?? 'none'),
    };
    problems.push(...scenario.judge(outcome));
    for (const record of records.notifications) {
      let answer: { eventId?: string; error?: string; reason?: string } = {};
      try {
        answer = JSON.parse(record.answer);
      } catch {}
      timeline.push({
        atMs: record.atMs - (started - lab.verifier.startedAt),
        rollout: key,
        what: `Argo → ingest ${record.status}: ${record.trigger}${answer.error ? ` (${answer.error})` : answer.reason ? ` (${answer.reason})` : ''}`,
      });
    }
    for (const record of records.verdicts) {
      const detail = record.event.detail as {
        verdict: string;
        step: { index: number };
        expected: { canaryWeight?: number; stableWeight?: number };
        findings: Array<{ code: string; message: string }>;
        attempts: number;
        durationMs: number;
      };
      timeline.push({
        atMs: record.atMs - (started - lab.verifier.startedAt),
        rollout: key,
        what: `verify: ${detail.verdict} at step ${detail.step.index} (expected canary ${detail.expected.canaryWeight} / stable ${detail.expected.stableWeight}) after ${detail.attempts} observation(s), ${(detail.durationMs / 1000).toFixed(1)} s`,
      });
      for (const finding of detail.findings) {
        timeline.push({
          atMs: record.atMs - (started - lab.verifier.startedAt),
          rollout: key,
          what: `  finding ${finding.code}: ${finding.message}`,
        });
      }
    }
    for (const record of records.invocations.filter((invocation) => invocation.fn === 'callback')) {
      const result = record.result as { action?: string; reason?: string } | null;
      timeline.push({
        atMs: record.atMs - (started - lab.verifier.startedAt),
        rollout: key,
        what: record.ok
          ? `callback: ${result?.action ?? 'none'}${result?.reason ? ` (${result.reason})` : ''}`
          : `callback failed: ${record.error?.message}`,
      });
    }
    timeline.sort((a, b) => a.atMs - b.atMs);
    await writeFile(
      join(captureDir, 'notifications.jsonl'),
      `${records.notifications
        .map((record) =>
          JSON.stringify({
            atMs: record.atMs,
            trigger: record.trigger,
            status: record.status,
            body: JSON.parse(record.body),
          }),
        )
        .join('\n')}\n`,
    );
    await writeFile(
      join(captureDir, 'verdicts.jsonl'),
      `${records.verdicts.map((record) => JSON.stringify(record.event.detail)).join('\n')}\n`,
    );
    await writeFile(
      join(captureDir, 'callbacks.jsonl'),
      `${records.invocations
        .filter((record) => record.fn === 'callback')
        .map((record) => JSON.stringify({ ok: record.ok, result: record.result, error: record.error }))
        .join('\n')}\n`,
    );
    const { live } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
    await writeFile(join(captureDir, 'rollout-final.json'), `${JSON.stringify(live, null, 2)}\n`);
    return {
      name: scenario.name,
      argoVersion: scenario.argoVersion,
      router: scenario.router,
      ...outcome,
      ok: problems.length === 0,
      problems,
      notifications: records.notifications.length,
      seconds: (Date.now() - started) / 1000,
      captureDir,
      timeline,
    };
  } catch (error) {
    problems.push((error as Error).message);
    return {
      name: scenario.name,
      argoVersion: scenario.argoVersion,
      router: scenario.router,
      verdicts: [],
      findings: [],
      clusterActions: [],
      ok: false,
      problems,
      notifications: mine().notifications.length,
      seconds: (Date.now() - started) / 1000,
      captureDir,
      timeline,
    };
  } finally {
    await sampler.stop();
    lab.loadBalancerController.thaw(scenario.namespace);
  }
}

function rolloutOfEvent(event: Record<string, unknown>): string | null {
  const rollout = (event.detail as { rollout?: { namespace?: string; name?: string } } | undefined)?.rollout;
  return rollout?.namespace && rollout.name ? `${rollout.namespace}/${rollout.name}` : null;
}

/**
 * Every distinct state of the scenario's routes, as the real controllers (and the load balancer
 * controller stand-in) wrote them, each with the Rollout's step and weights at that moment.
 */
function startStateSampler(lab: Lab, scenario: LabScenario, file: string) {
  const kube = lab.control.admin;
  const elb = new ElasticLoadBalancingV2Client({
    region: LAB_REGION,
    endpoint: lab.moto.endpoint,
    credentials: { accessKeyId: 'lab-observer', secretAccessKey: 'lab' },
    requestHandler: { requestTimeout: 10_000, connectionTimeout: 2_000 },
  });
  let last = '';
  let stopped = false;
  const started = Date.now();
  const sample = async () => {
    const state: Record<string, unknown> = {};
    const { status } = await rolloutStatus(kube, scenario.namespace, scenario.rollout);
    state.rollout = {
      phase: (status as Record<string, unknown>).phase,
      currentStepIndex: (status as Record<string, unknown>).currentStepIndex,
      canary: (status as Record<string, unknown>).canary,
      abort: status.abort,
      stableRS: status.stableRS,
      currentPodHash: status.currentPodHash,
    };
    if (scenario.watch.ingress) {
      const ingress = await kube.get(
        'networking.k8s.io/v1',
        'Ingress',
        scenario.watch.ingress,
        scenario.namespace,
      );
      state.ingressAnnotations = Object.fromEntries(
        Object.entries(ingress?.metadata.annotations ?? {}).filter(([name]) =>
          name.startsWith('alb.ingress.kubernetes.io/actions'),
        ),
      );
      const lbName = LoadBalancerControllerStandIn.loadBalancerName(
        LAB_CLUSTER,
        scenario.namespace,
        scenario.watch.ingress,
        'internet-facing',
      );
      const lb = await elb
        .send(new DescribeLoadBalancersCommand({ Names: [lbName] }))
        .then((answer) => answer.LoadBalancers?.[0])
        .catch(() => undefined);
      if (lb) {
        const listeners =
          (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ??
          [];
        const rules = [];
        const groups = new Set<string>();
        for (const listener of listeners) {
          for (const rule of (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn })))
            .Rules ?? []) {
            rules.push({ priority: rule.Priority, conditions: rule.Conditions, actions: rule.Actions });
            for (const action of rule.Actions ?? []) {
              for (const group of action.ForwardConfig?.TargetGroups ?? []) groups.add(group.TargetGroupArn!);
            }
          }
        }
        state.listenerRules = rules;
        const targets: Record<string, unknown> = {};
        for (const arn of groups) {
          targets[arn] = (
            (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })))
              .TargetHealthDescriptions ?? []
          ).map(
            (description) =>
              `${description.Target?.Id}:${description.Target?.Port} ${description.TargetHealth?.State}`,
          );
        }
        state.targets = targets;
      }
    }
    if (scenario.watch.virtualService) {
      state.virtualService = (
        await kube.get(
          'networking.istio.io/v1beta1',
          'VirtualService',
          scenario.watch.virtualService,
          scenario.namespace,
        )
      )?.spec;
    }
    if (scenario.watch.destinationRule) {
      state.destinationRule = (
        await kube.get(
          'networking.istio.io/v1beta1',
          'DestinationRule',
          scenario.watch.destinationRule,
          scenario.namespace,
        )
      )?.spec;
    }
    if (scenario.watch.mappings) {
      state.mappings = (await kube.list('getambassador.io/v2', 'Mapping', scenario.namespace)).map(
        (mapping) => ({
          name: mapping.metadata.name,
          spec: mapping.spec,
        }),
      );
    }
    const text = JSON.stringify(state);
    if (text !== last) {
      last = text;
      await appendFile(file, `${JSON.stringify({ atMs: Date.now() - started, ...state })}\n`);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => {});
      await sleep(1_000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
