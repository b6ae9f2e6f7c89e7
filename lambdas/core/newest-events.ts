import type { RolloutEventDetail } from './contracts/rollout-event.js';

/**
 * The newest (revision, step) verified per rollout in this container. An event older than that
 * describes a state the rollout has left: judging it could only produce a false Failed.
 */
export class NewestEvents {
  private readonly newest = new Map<string, { uid: string; revision: number; step: number }>();

  constructor(private readonly capacity = 10_000) {}

  /** True when a newer revision or step of the same rollout object was already seen. */
  isStale(event: RolloutEventDetail): boolean {
    const seen = this.newest.get(keyOf(event));
    if (!seen || seen.uid !== event.rollout.uid) return false;
    if (event.rollout.revision !== seen.revision) return event.rollout.revision < seen.revision;
    return event.step.index < seen.step;
  }

  record(event: RolloutEventDetail): void {
    if (this.isStale(event)) return;
    const key = keyOf(event);
    this.newest.delete(key);
    // An aborted revision can be retried from step 0: after an abort no step of it is "older".
    const step = event.aborted ? -1 : event.step.index;
    this.newest.set(key, { uid: event.rollout.uid, revision: event.rollout.revision, step });
    // Maps iterate in insertion order: the first key is the least recently recorded.
    if (this.newest.size > this.capacity) this.newest.delete(this.newest.keys().next().value!);
  }
}

function keyOf(event: RolloutEventDetail): string {
  return `${event.cluster ?? ''}/${event.rollout.namespace}/${event.rollout.name}`;
}
