/**
 * The verifications of a setWeight step and of the on-rollout-paused behind it check the same
 * weights at the same time: the first to end Failed makes the callback abort, and the other is
 * Failed too, unless the abort was carried out before its last look — then it judges the Rollout
 * going back to stable (Succeeded once the routes carry it; Inconclusive when its last look was cut
 * short or caught the routes between the two states). Which of the two comes first is timing; the
 * scenario's expected `aborted` action says one of them was Failed, and only a Failed aborts.
 */
export const FAILED_UNLESS_ABORTED = ['Failed', 'Succeeded', 'Inconclusive'] as const;
