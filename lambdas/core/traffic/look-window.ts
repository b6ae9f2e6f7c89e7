/**
 * CloudWatch publishes ALB metrics per whole minute, a minute or more after it ends. The look
 * reads only minutes that lie entirely inside the step's window — a minute that began before the
 * weights were right would mix the old split into the new — and only once the last of them has
 * had `publicationDelaySeconds` to appear.
 */
export const MINUTE_MS = 60_000;

export interface LookWindow {
  /** First whole minute at or after the weights were right (inclusive). */
  start: number;
  /** End of the last whole minute before the window closed (exclusive); start when no minute fits. */
  end: number;
}

export function lookWindow(weightsRightAt: number, closesAt: number): LookWindow {
  const start = Math.ceil(weightsRightAt / MINUTE_MS) * MINUTE_MS;
  const end = Math.max(start, Math.floor(closesAt / MINUTE_MS) * MINUTE_MS);
  return { start, end };
}

/** When the look may read the window: its end plus the delay CloudWatch needs to publish it. */
export function readableAt(window: LookWindow, publicationDelaySeconds: number): number {
  return window.end + publicationDelaySeconds * 1000;
}

export const wholeMinutes = (window: LookWindow) => (window.end - window.start) / MINUTE_MS;
