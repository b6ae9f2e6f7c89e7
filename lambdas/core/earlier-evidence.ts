import type { Finding } from './contracts/verdict-event.js';

/**
 * Wording for a finding kept from an earlier observation (the later ones could not complete):
 * every reader — CLI, Kubernetes Events — must see that it is evidence, not the verdict's reason.
 */
export function earlierObservationNote(finding: Finding): string {
  const earlier = finding.earlierObservation;
  if (!earlier) return '';
  return `[seen in observation ${earlier.attempt} at ${earlier.observedAt}, not confirmed since: later observations could not complete] `;
}
