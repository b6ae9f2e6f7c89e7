import { createHash } from 'node:crypto';
import type { RolloutEventDetail } from './contracts/rollout-event.js';
import type { Evidence, VerdictEventDetail } from './contracts/verdict-event.js';
import { type AttemptProgress, type AttemptRecord, converge } from './converge.js';
import { judge } from './judge/index.js';
import type { Observation, Router } from './observation.js';
import type { AlbObservationTarget } from './routers/alb/router.js';
import type { AmbassadorObservationTarget } from './routers/ambassador/router.js';
import type { IstioObservationTarget } from './routers/istio/router.js';

export const DEFAULT_DEADLINE_SECONDS = 30;

export interface Routers {
  alb: Router<AlbObservationTarget>;
  /** Istio and Ambassador are observed through the Kubernetes API: absent when the verifier has no cluster access. */
  istio?: Router<IstioObservationTarget>;
  ambassador?: Router<AmbassadorObservationTarget>;
}

export interface VerifySettings {
  /** Used when the event carries no deadline of its own. */
  deadlineSeconds?: number;
  /** No deadline may exceed this, e.g. what is left of a Lambda invocation. */
  deadlineCapSeconds?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  onAttempt?: (progress: AttemptProgress) => void;
}

/** Why an event cannot be verified by the routers given (ALB only when omitted), or undefined when it can. */
export function unverifiableReason(
  event: RolloutEventDetail,
  routers: Partial<Routers> = {},
): string | undefined {
  switch (event.traffic.router) {
    case 'alb':
      return undefined;
    case 'none':
      return 'the rollout uses no traffic routing: its split follows replica counts, there is no weight to verify';
    case 'istio':
    case 'ambassador':
      return routers[event.traffic.router]
        ? undefined
        : `the ${event.traffic.router} router reads ${event.traffic.router === 'istio' ? 'VirtualServices' : 'Mappings'} through the Kubernetes API, and this verifier has no access to the rollout's cluster${event.cluster ? ` (${event.cluster})` : ''}: configure the cluster (the stack's clusterNames; for the CLI, a kubeconfig)`;
  }
}

/** From one rollout event to one verdict: observe, judge, re-observe until the deadline. */
export async function verifyRollout(
  event: RolloutEventDetail,
  routers: Routers,
  settings: VerifySettings = {},
): Promise<VerdictEventDetail> {
  const deadlineSeconds = Math.max(
    1,
    Math.min(
      event.deadlineSeconds ?? settings.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
      settings.deadlineCapSeconds ?? Number.POSITIVE_INFINITY,
    ),
  );
  const traffic = event.traffic;
  const observe = observerOf(event, routers);
  if (!observe) throw new Error(unverifiableReason(event, routers));

  const result = await converge(
    async (signal) => {
      const observation = await observe(signal);
      return { observation, judgement: judge(event.expected, observation) };
    },
    {
      deadlineMs: deadlineSeconds * 1000,
      initialDelayMs: settings.initialDelayMs,
      maxDelayMs: settings.maxDelayMs,
      random: settings.random,
      onAttempt: settings.onAttempt,
    },
  );

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
  };
}

/** The router call for the event's traffic routing, or undefined when no router given observes it. */
function observerOf(
  event: RolloutEventDetail,
  routers: Routers,
): ((signal: AbortSignal) => Promise<Observation>) | undefined {
  const { traffic } = event;
  const where = { namespace: event.rollout.namespace, cluster: event.cluster };
  switch (traffic.router) {
    case 'alb':
      return (signal) => routers.alb.observe({ ...where, traffic }, signal);
    case 'istio': {
      const { istio } = routers;
      const hashes = {
        podTemplateHash: event.rollout.podTemplateHash,
        stablePodTemplateHash: event.rollout.stablePodTemplateHash,
      };
      return istio && ((signal) => istio.observe({ ...where, traffic, ...hashes }, signal));
    }
    case 'ambassador': {
      const { ambassador } = routers;
      return ambassador && ((signal) => ambassador.observe({ ...where, traffic }, signal));
    }
    default:
      return undefined;
  }
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
