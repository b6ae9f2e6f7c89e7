import { z } from 'zod';
import { HISTORY_RETENTION_DAYS, HISTORY_TABLE_NAME } from '../../contract/environment.js';
import { readEnvironment } from '../shared/environment.js';

/** Days a verdict is kept (DynamoDB TTL); 0 keeps it forever. Ten years at most. */
export const HistoryRetentionDays = z.coerce
  .number('must be a whole number of days')
  .int('must be a whole number of days')
  .min(0, 'must not be negative')
  .max(3650, 'must be at most 3650')
  .default(90);

export const HistoryEnvironment = z.object({
  [HISTORY_TABLE_NAME]: z.string('is required: the verdict history table').min(1, 'is required'),
  [HISTORY_RETENTION_DAYS]: HistoryRetentionDays,
});
export type HistorySettings = z.infer<typeof HistoryEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): HistorySettings {
  return readEnvironment(HistoryEnvironment, 'history', env);
}
