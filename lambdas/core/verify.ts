import { createHash } from 'node:crypto';
import type { RolloutEventDetail } from './contracts/rollout-event.js';
import type { Evidence, VerdictEventDetail } from './contracts/verdict-event.js';
import {
  type AttemptContext,
  type AttemptProgress,
  type AttemptRecord,
  type Converged,
  type ConvergeOptions,
  converge,
  type Step,
} from './converge.js';
import type { CurrentRolloutReader } from './current-rollout.js';
import { judge } from './judge/index.js';
import type { Observation, ObserveOptions } from './observation.js';
import type { Routers } from './routers/index.js';

export const DEFAULT_DEADLINE_SECONDS = 30;

/**
 * Looks starting this close to the deadline read everything, so a Failed verdict's evidence is a
 * full observation (the routes and the health of every target group), as it always was.
 */
export const LAST_LOOK_WINDOW_MS = 3_000;

export interface VerifySettings {
  /** Used when the event carries no deadline of its own. */
  deadlineSeconds?: number;
  /** No deadline may exceed this, e.g. what is left of a Lambda invocation. */
  deadlineCapSeconds?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** See ConvergeOptions.steadyLooks. */
  steadyLooks?: number;
  /**
   * Read target health only once the routes carry the expected weights (the verify function; the
   * CLI's one-off checks read everything, default false): while they do not, a look costs one
   * DescribeRules instead of one plus one DescribeTargetHealth per target group. The looks in the
   * last `LAST_LOOK_WINDOW_MS` before the deadline always read everything.
   */
  routesFirst?: boolean;
  random?: () => number;
  onAttempt?: (progress: AttemptProgress) => void;
  /** Reads the Rollout next to each observation (with cluster access), to recognise a rollout that moved on. */
  currentRollout?: CurrentRolloutReader;
}

/** Why an event cannot be verified with these routers, or undefined when it can. */
export function unverifiableReason(event: RolloutEventDetail, routers: Routers): string | undefined {
  const found = routers.forEvent(event);
  return 'reason' in found ? found.reason : undefined;
}

/** One verification, ready to look: its deadline, its schedule's options and one look. */
export interface PreparedVerification {
  deadlineSeconds: number;
  schedule: ConvergeOptions;
  look: (signal: AbortSignal, context: AttemptContext) => Promise<Step>;
}

/** From one rollout event to one verdict: observe, judge, re-observe until the deadline. */
export async function verifyRollout(
  event: RolloutEventDetail,
  routers: Routers,
  settings: VerifySettings = {},
): Promise<VerdictEventDetail> {
  const prepared = prepareVerification(event, routers, settings);
  return verdictOf(event, await converge(prepared.look, prepared.schedule), prepared.deadlineSeconds);
}

/**
 * The router, deadline and look of a verification, apart from how it waits between looks
 * (`converge` sleeps; the verify function may re-queue it: `LookSchedule`).
 */
export function prepareVerification(
  event: RolloutEventDetail,
  routers: Routers,
  settings: VerifySettings = {},
): PreparedVerification {
  const deadlineSeconds = Math.max(
    1,
    Math.min(
      event.deadlineSeconds ?? settings.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
      settings.deadlineCapSeconds ?? Number.POSITIVE_INFINITY,
    ),
  );
  const found = routers.forEvent(event);
  if ('reason' in found) throw new Error(found.reason);
  const { router } = found;
  const { currentRollout } = settings;
  const routesFirst = settings.routesFirst ?? false;

  const look = async (signal: AbortSignal, { lastLook }: AttemptContext): Promise<Step> => {
    // Context only: a Rollout that cannot be read leaves the routes to be judged on their own. Read
    // once the routes are (they may wait for the Describe budget): a Rollout read seconds before
    // them would be older than what it is compared with.
    let currentRead: Promise<Observation['current'] | undefined> | undefined;
    const readCurrent = () => {
      currentRead ??= currentRollout?.(event, signal).catch(() => undefined) ?? Promise.resolve(undefined);
      return currentRead;
    };
    const options: ObserveOptions | undefined =
      routesFirst && !lastLook
        ? {
            needsTargetHealth: async (routesOnly) =>
              weightsMayPass(event, withCurrent(routesOnly, await readCurrent())),
          }
        : undefined;
    const routes = await router.observe(event, signal, options);
    const observation = withCurrent(routes, await readCurrent());
    return { observation, judgement: judge(event.expected, observation) };
  };

  return {
    deadlineSeconds,
    look,
    schedule: {
      deadlineMs: deadlineSeconds * 1000,
      initialDelayMs: settings.initialDelayMs,
      maxDelayMs: settings.maxDelayMs,
      steadyLooks: settings.steadyLooks,
      lastLookWindowMs: LAST_LOOK_WINDOW_MS,
      random: settings.random,
      onAttempt: settings.onAttempt,
    },
  };
}

/** The verdict event of a decided verification. */
export function verdictOf(
  event: RolloutEventDetail,
  result: Converged,
  deadlineSeconds: number,
): VerdictEventDetail {
  const traffic = event.traffic;
  return {
    schemaVersion: 1,
    verdictId: verdictIdOf(event.eventId),
    eventId: event.eventId,
    verdict: result.judgement.verdict,
    // Absent, never `undefined`: the verdict is stored by idempotency (DynamoDB marshalling refuses undefined).
    ...(event.cluster === undefined ? {} : { cluster: event.cluster }),
    rollout: event.rollout,
    step: { index: event.step.index },
    expected: expectedSplit(event.expected),
    traffic: { router: traffic.router },
    findings: result.judgement.findings,
    attempts: result.attempts,
    durationMs: result.durationMs,
    deadlineSeconds,
    decidedAt: new Date().toISOString(),
    ...(result.evidence?.observation
      ? { evidence: evidenceOf(result.evidence, result.evidence.observation) }
      : {}),
    trigger: event.trigger,
    ...(result.judgement.movedOn
      ? {
          movedOn: {
            step: { index: result.judgement.movedOn.stepIndex },
            expected: expectedSplit(result.judgement.movedOn.expected),
          },
        }
      : {}),
  };
}

function withCurrent(observation: Observation, current: Observation['current'] | undefined): Observation {
  return current ? { ...observation, current } : observation;
}

/**
 * Whether target health could still change this look's judgement: unless the routes alone, judged
 * as a router that sees no targets would be, already show a definite mismatch, it could.
 */
function weightsMayPass(event: RolloutEventDetail, routesOnly: Observation): boolean {
  const { routesOnly: _unread, ...weightsOnly } = routesOnly;
  const judgement = judge(event.expected, weightsOnly);
  return !(judgement.verdict === 'Failed' && judgement.complete);
}

/** The split part of the expectation, absent members left out (the verdict is stored by idempotency). */
function expectedSplit(expected: RolloutEventDetail['expected']): VerdictEventDetail['expected'] {
  const { canaryWeight, stableWeight, additional, transition } = expected;
  return {
    canaryWeight,
    stableWeight,
    ...(additional ? { additional } : {}),
    ...(transition ? { transition } : {}),
  };
}

/** Deterministic per rollout event, so a redelivered event yields the same idempotency key downstream. */
export function verdictIdOf(eventId: string): string {
  return createHash('sha256').update(`verdict:${eventId}`).digest('hex').slice(0, 32);
}

/** What one observation saw, and which observation it was. */
function evidenceOf(record: AttemptRecord, observation: Observation): Evidence {
  return {
    attempt: record.attempt,
    observedAt: record.observedAt,
    complete: record.judgement.complete,
    ...(observation.region === undefined ? {} : { region: observation.region }),
    routes: observation.routes.map((route) => ({
      resource: route.resource,
      description: route.description,
      destinations: route.destinations.map(({ resource, role, weight }) => ({ resource, role, weight })),
    })),
    backends: observation.backends.map((backend) => {
      const targets: Record<string, number> = {};
      for (const target of backend.targets) targets[target.state] = (targets[target.state] ?? 0) + 1;
      return { resource: backend.resource, role: backend.role, targets };
    }),
  };
}
