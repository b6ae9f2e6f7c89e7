import { z } from 'zod';
import { getObject, type KubeApiForCluster } from '../core/cluster/kube-api.js';
import { KubeApiError } from '../core/cluster/kube-errors.js';
import { rolloutPath } from '../core/cluster/paths.js';
import {
  KubernetesName,
  KubernetesNamespace,
  type RolloutEventDetail,
} from '../core/contracts/rollout-event.js';
import type { Finding, FindingCode, VerdictEventDetail } from '../core/contracts/verdict-event.js';
import type { HistoryEntry, VerdictHistory } from '../core/history/verdict-history.js';
import { lastSetWeightAtOrBefore } from '../core/normalize/expected-state.js';
import {
  NotificationRollout,
  NotificationValidationError,
  normalizeLiveRollout,
} from '../core/normalize/index.js';
import type { CanaryStep } from '../core/normalize/notification-body.js';
import type { Routers } from '../core/routers/index.js';
import { unverifiableReason, verifyRollout } from '../core/verify.js';
import type { ClusterTokenSource } from '../ingest/cluster-tokens.js';
import { type WebhookRequest, webhookRequestOf } from '../ingest/request.js';
import { logger } from '../shared/powertools.js';
import { authenticate } from './authenticate.js';

/** What a Function URL returns (payload format 2.0). */
export interface GateResponse {
  statusCode: 200 | 400 | 401 | 404 | 405 | 500 | 503;
  headers: Record<string, string>;
  body: string;
}

/** The answer an Argo `web` metric evaluates: `result.verdict` is Succeeded, Failed or Inconclusive. */
export interface GateAnswer {
  verdict: VerdictEventDetail['verdict'];
  findings: Finding[];
  /** `stored`: a verdict kept in the history; `observed`: verified on demand by this request; `none`: could not look. */
  source: 'stored' | 'observed' | 'none';
  rollout: { namespace: string; name: string; revision?: number; podTemplateHash?: string };
  step?: { index: number };
  expected?: VerdictEventDetail['expected'];
  verdictId?: string;
  decidedAt?: string;
  attempts?: number;
  durationMs?: number;
}

/** The most timeline entries one `/history` answer carries (a Function URL answer is at most 6 MB). */
export const MAX_HISTORY_ANSWER_ENTRIES = 200;
/** Findings in one answer: an AnalysisRun keeps the value in its status (etcd objects are small). */
export const MAX_ANSWER_FINDINGS = 20;

export interface GateDependencies {
  tokens: ClusterTokenSource;
  history: Pick<VerdictHistory, 'recent' | 'timeline' | 'record'>;
  /** The clusters' API servers (the Rollout is read live); undefined without cluster access. */
  kubeFor: KubeApiForCluster | undefined;
  routers: Routers;
  verify: { deadlineSeconds: number; initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How long to wait for the verify function's verdict of this step before observing on demand
   * (at most half the time left): the verify function is usually verifying the same step right now,
   * and two observers would spend the account's ELBv2 Describe budget twice. 0: observe at once.
   */
  waitForStoredMs: number;
  /** Between two reads of the history while waiting. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds this invocation may still spend verifying (its remaining time minus the answer's reserve). */
  timeLeftMs: () => number;
  now?: () => Date;
}

const PodTemplateHash = z
  .string()
  .regex(/^[a-z0-9]{1,32}$/, 'must be a pod-template-hash (1–32 lowercase alphanumerics)');
const Revision = z.coerce.number().int().nonnegative();
const Flag = z.enum(['true', 'false']);

/** The query of `GET /analysis` (the ClusterAnalysisTemplates in deploy/cluster/analysis build it). */
export const AnalysisQuery = z.object({
  namespace: KubernetesNamespace,
  name: KubernetesName,
  podTemplateHash: PodTemplateHash.optional(),
  /** `true`: observe now even when a verdict is stored (background analysis). */
  fresh: Flag.optional(),
});
const HistoryQuery = z.object({
  namespace: KubernetesNamespace,
  name: KubernetesName,
  revision: Revision.optional(),
});

const RawPath = z.object({ rawPath: z.string().optional(), path: z.string().optional() }).loose();

/**
 * The analysis gate (Function URL, GET): `/analysis` answers the verdict of a rollout's current step
 * and revision for an Argo `web` metric; `/history` answers its kept verdicts. Both take the
 * webhook's bearer token, which speaks for one cluster: the rollout is looked up in that cluster
 * only. Never throws: every path ends in an answer.
 */
export function createGate(deps: GateDependencies): (event: unknown) => Promise<GateResponse> {
  async function handle(event: unknown): Promise<GateResponse> {
    const request = webhookRequestOf(event);
    if (!request) return json(400, { error: 'not a Lambda Function URL request' });
    if (request.method.toUpperCase() !== 'GET') {
      return json(405, { error: `method ${request.method.slice(0, 16)} not allowed: GET` }, { allow: 'GET' });
    }
    const auth = await authenticate(request, deps.tokens);
    if (!auth.ok) {
      logger.warn('gate request refused', { status: auth.status, reason: auth.reason });
      return json(
        auth.status,
        { error: auth.error },
        auth.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    const path = pathOf(event);
    if (path === '/analysis') return analysis(request, auth.cluster);
    if (path === '/history') return history(request, auth.cluster);
    return json(404, { error: 'unknown path: GET /analysis or /history' });
  }

  async function history(request: WebhookRequest, cluster: string | undefined): Promise<GateResponse> {
    const query = HistoryQuery.safeParse(request.query);
    if (!query.success) return json(400, { error: describeQuery(query.error) });
    const { namespace, name, revision } = query.data;
    const entries = await deps.history.timeline(
      { cluster, namespace, name },
      { ...(revision === undefined ? {} : { revision }), limit: MAX_HISTORY_ANSWER_ENTRIES },
    );
    return json(200, { rollout: `${namespace}/${name}`, entries });
  }

  async function analysis(request: WebhookRequest, cluster: string | undefined): Promise<GateResponse> {
    const query = AnalysisQuery.safeParse(request.query);
    if (!query.success) return json(400, { error: describeQuery(query.error) });
    const { namespace, name, podTemplateHash, fresh } = query.data;
    const ref = { namespace, name, ...(podTemplateHash ? { podTemplateHash } : {}) };
    const blind = (code: FindingCode, message: string) =>
      json(200, inconclusive(ref, code, `rollout/${namespace}/${name}`, message));

    if (!deps.kubeFor) {
      return blind(
        'ObservationError',
        'the gate has no cluster access (clusterNames): it cannot read the Rollout',
      );
    }
    const live = await readRollout(deps.kubeFor, cluster, namespace, name);
    if ('problem' in live) return blind(live.code, live.problem);
    const { event, steps } = live;
    if (podTemplateHash && event.rollout.podTemplateHash !== podTemplateHash) {
      return blind(
        'RolloutMovedOn',
        `the AnalysisRun is for pod-template-hash ${podTemplateHash}, the Rollout now rolls out ${event.rollout.podTemplateHash ?? 'none'}`,
      );
    }

    const key = { cluster, namespace, name };
    if (fresh !== 'true') {
      const stored = await waitForStored(key, event, steps);
      if (stored) return json(200, answerOf(stored.verdict, 'stored'));
    }

    const unverifiable = unverifiableReason(event, deps.routers);
    if (unverifiable) return blind('UnsupportedTrafficRouting', unverifiable);
    const capSeconds = Math.floor(deps.timeLeftMs() / 1000);
    if (capSeconds < 1) return blind('ObservationError', 'no time left to observe within the gate timeout');
    const verdict = await verifyRollout(event, deps.routers, {
      deadlineSeconds: deps.verify.deadlineSeconds,
      deadlineCapSeconds: capSeconds,
      initialDelayMs: deps.verify.initialDelayMs,
      maxDelayMs: deps.verify.maxDelayMs,
    });
    try {
      await deps.history.record(verdict, 'gate');
    } catch (error) {
      // The answer matters more than the record: Argo is waiting.
      logger.error('on-demand verdict not recorded', { error, verdictId: verdict.verdictId });
    }
    logger.info('verified on demand', {
      rollout: `${namespace}/${name}`,
      verdict: verdict.verdict,
      findings: verdict.findings.map((finding) => finding.code),
    });
    return json(200, answerOf(verdict, 'observed'));
  }

  /** A stored verdict now, or one the verify function stores while we wait; undefined after the wait. */
  async function waitForStored(
    key: { cluster: string | undefined; namespace: string; name: string },
    event: RolloutEventDetail,
    steps: readonly CanaryStep[],
  ): Promise<HistoryEntry | undefined> {
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const waitUntil = Date.now() + Math.min(deps.waitForStoredMs, deps.timeLeftMs() / 2);
    for (;;) {
      const stored = await storedVerdict(key, event, steps).catch((error: unknown) => {
        // The history is a shortcut: without it, the gate observes.
        logger.warn('stored verdicts could not be read', { error });
        return undefined;
      });
      if (stored || Date.now() >= waitUntil) return stored;
      await sleep(Math.min(deps.pollIntervalMs ?? 500, Math.max(0, waitUntil - Date.now())));
    }
  }

  /**
   * A Succeeded or Failed verdict kept for this very state: the same Rollout object (uid) and
   * revision, a step between the setWeight in force and the current one (an inline analysis step
   * follows the setWeight the verify function judged), and the same expected weights.
   */
  async function storedVerdict(
    key: { cluster: string | undefined; namespace: string; name: string },
    event: RolloutEventDetail,
    steps: readonly CanaryStep[],
  ): Promise<HistoryEntry | undefined> {
    const from = lastSetWeightAtOrBefore(steps, event.step.index)?.at ?? 0;
    const recent = await deps.history.recent(key, { revision: event.rollout.revision });
    return recent.find(
      ({ verdict }) =>
        verdict.verdict !== 'Inconclusive' &&
        verdict.movedOn === undefined &&
        verdict.rollout.uid === event.rollout.uid &&
        verdict.step.index >= from &&
        verdict.step.index <= event.step.index &&
        verdict.expected.canaryWeight === event.expected.canaryWeight &&
        verdict.expected.stableWeight === event.expected.stableWeight,
    );
  }

  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      logger.error('gate request failed', { error });
      return json(500, { error: 'internal error; see the gate function log' });
    }
  };
}

type LiveRead =
  | { event: RolloutEventDetail; steps: readonly CanaryStep[] }
  | { problem: string; code: FindingCode };

/** The Rollout as the API server holds it now, as a live rollout event; a read that fails says why. */
async function readRollout(
  kubeFor: KubeApiForCluster,
  cluster: string | undefined,
  namespace: string,
  name: string,
): Promise<LiveRead> {
  let raw: unknown;
  try {
    raw = await getObject(await kubeFor(cluster), rolloutPath(namespace, name));
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) {
      return {
        code: 'ResourceNotFound',
        problem: `rollout ${namespace}/${name} does not exist in the cluster`,
      };
    }
    if (error instanceof KubeApiError && error.status === 403) {
      return {
        code: 'AccessDenied',
        problem: `the cluster refused "get rollouts.argoproj.io" to the gate (the ClusterRole rollout-verifier-observer, deploy/cluster/clusterroles.yaml)`,
      };
    }
    return {
      code: 'ObservationError',
      problem:
        `cannot read rollout ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          500,
        ),
    };
  }
  try {
    const event = normalizeLiveRollout(raw, { receivedAt: new Date(), ...(cluster ? { cluster } : {}) });
    const parsed = NotificationRollout.safeParse(raw);
    const steps = parsed.success ? (parsed.data.spec.strategy.canary?.steps ?? []) : [];
    return { event, steps };
  } catch (error) {
    if (!(error instanceof NotificationValidationError)) throw error;
    return {
      code: 'AmbiguousState',
      problem: `not a Rollout the verifier can verify: ${error.message}`.slice(0, 500),
    };
  }
}

function answerOf(verdict: VerdictEventDetail, source: 'stored' | 'observed'): GateAnswer {
  return {
    verdict: verdict.verdict,
    findings: verdict.findings.slice(0, MAX_ANSWER_FINDINGS),
    source,
    rollout: {
      namespace: verdict.rollout.namespace,
      name: verdict.rollout.name,
      revision: verdict.rollout.revision,
      ...(verdict.rollout.podTemplateHash ? { podTemplateHash: verdict.rollout.podTemplateHash } : {}),
    },
    step: verdict.step,
    expected: verdict.expected,
    verdictId: verdict.verdictId,
    decidedAt: verdict.decidedAt,
    attempts: verdict.attempts,
    durationMs: verdict.durationMs,
  };
}

function inconclusive(
  rollout: GateAnswer['rollout'],
  code: FindingCode,
  resource: string,
  message: string,
): GateAnswer {
  return {
    verdict: 'Inconclusive',
    findings: [{ code, resource, expected: null, observed: null, message }],
    source: 'none',
    rollout,
  };
}

function pathOf(event: unknown): string {
  const parsed = RawPath.safeParse(event);
  const path = parsed.success ? (parsed.data.rawPath ?? parsed.data.path ?? '/') : '/';
  return path.replace(/\/+$/, '') || '/';
}

function describeQuery(error: z.ZodError): string {
  return error.issues
    .map((issue) => `query parameter ${issue.path.join('.') || '(none)'} ${issue.message}`)
    .join('; ');
}

function json(
  statusCode: GateResponse['statusCode'],
  body: unknown,
  headers: Record<string, string> = {},
): GateResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
