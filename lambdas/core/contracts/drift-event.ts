import { z } from 'zod';
import { Verdict, VerdictEventDetail } from './verdict-event.js';

/**
 * The detail of "Rollout Verification Drift": the drift sentinel's Failed verdict (with its
 * findings and evidence) on a rollout whose previous verdict was not Failed, and that verdict.
 */
export const DriftEventDetail = VerdictEventDetail.extend({
  drift: z.object({
    previousVerdict: Verdict,
    previousVerifiedAt: z.string(),
  }),
});
export type DriftEventDetail = z.infer<typeof DriftEventDetail>;
