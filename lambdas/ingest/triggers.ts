import { ROLLOUT_DETAIL_TYPES, type RolloutTrigger } from '../../contract/event-catalog.js';

/**
 * Argo Rollouts triggers the verifier deliberately does not act on: a subscription that includes
 * them (say, a catalog-wide one) is answered 202 and nothing is published.
 */
export const IRRELEVANT_ARGO_TRIGGERS = [
  'on-scaling-replica-set',
  'on-analysis-run-running',
  'on-analysis-run-successful',
  'on-analysis-run-failed',
  'on-analysis-run-error',
] as const;

/** The shape of an Argo notifications trigger name. Anything else is a template error, not a trigger. */
const TRIGGER_NAME = /^on-[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_TRIGGER_NAME = 253;

export type TriggerClass =
  /** One of ours: normalize and publish. */
  | { kind: 'relevant'; trigger: RolloutTrigger }
  /** A well-formed trigger name the verifier does not act on: 202, nothing published. */
  | { kind: 'ignored'; trigger: string; known: boolean; reason: string }
  /** Missing, not a string, or not shaped like a trigger name: the normalizer reports it (422). */
  | { kind: 'invalid' };

const RELEVANT = new Set<string>(Object.keys(ROLLOUT_DETAIL_TYPES));
const IRRELEVANT = new Set<string>(IRRELEVANT_ARGO_TRIGGERS);

/** Looks at `trigger` only, before the rest of the body is validated. */
export function classifyTrigger(body: unknown): TriggerClass {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'invalid' };
  const trigger = (body as Record<string, unknown>).trigger;
  if (typeof trigger !== 'string') return { kind: 'invalid' };
  if (RELEVANT.has(trigger)) return { kind: 'relevant', trigger: trigger as RolloutTrigger };
  if (trigger.length > MAX_TRIGGER_NAME || !TRIGGER_NAME.test(trigger)) return { kind: 'invalid' };
  const known = IRRELEVANT.has(trigger);
  const suggestion = known ? undefined : closestTrigger(trigger);
  const reason = known
    ? `trigger "${trigger}" is not one the verifier acts on`
    : `unknown trigger "${trigger}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; the verifier acts on ${[...RELEVANT].join(', ')}`;
  return { kind: 'ignored', trigger, known, reason };
}

/** The relevant trigger a typo most likely meant, if one is close (edit distance ≤ 3). */
export function closestTrigger(name: string): RolloutTrigger | undefined {
  let best: { trigger: RolloutTrigger; distance: number } | undefined;
  for (const trigger of RELEVANT as Set<RolloutTrigger>) {
    const distance = editDistance(name, trigger);
    if (distance <= 3 && (!best || distance < best.distance)) best = { trigger, distance };
  }
  return best?.trigger;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
