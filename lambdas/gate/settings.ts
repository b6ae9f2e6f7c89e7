import { z } from 'zod';
import {
  GATE_RESPONSE_RESERVE_MS,
  GATE_STORED_VERDICT_WAIT_MS,
  HISTORY_RETENTION_DAYS,
  HISTORY_TABLE_NAME,
} from '../../contract/environment.js';
import { HistoryRetentionDays } from '../history/settings.js';
import { IngestEnvironment } from '../ingest/settings.js';
import { ClusterSettings } from '../shared/clusters.js';
import { readEnvironment } from '../shared/environment.js';
import { positiveInt, VerificationScheduleSettings } from '../shared/verification-settings.js';

/** The webhook token settings, read as the ingest function reads them: the same tokens open the gate. */
const { EVENT_BUS_NAME: _bus, ALLOWED_SOURCE_CIDRS: _sources, ...tokenSettings } = IngestEnvironment.shape;

export const GateEnvironment = ClusterSettings.extend({
  ...tokenSettings,
  [HISTORY_TABLE_NAME]: z.string('is required: the verdict history table').min(1, 'is required'),
  [HISTORY_RETENTION_DAYS]: HistoryRetentionDays,
  ...VerificationScheduleSettings,
  /** Time kept back from the function's timeout to answer and record an on-demand verdict. */
  [GATE_RESPONSE_RESERVE_MS]: positiveInt(3_000),
  /**
   * How long the gate waits for the verify function's verdict of the step before observing itself
   * (at most half its time left). Unset: the verification deadline. 0: observe at once.
   */
  [GATE_STORED_VERDICT_WAIT_MS]: z.coerce.number().int().nonnegative().max(900_000).optional(),
});
export type GateSettings = z.infer<typeof GateEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): GateSettings {
  return readEnvironment(GateEnvironment, 'gate', env);
}
