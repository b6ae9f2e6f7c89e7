import { z } from 'zod';
import {
  DRIFT_DESCRIBE_SHARE,
  DRIFT_INTERVAL_SECONDS,
  DRIFT_WATCH_AFTER_SETTLED_SECONDS,
  EVENT_BUS_NAME,
  HISTORY_RETENTION_DAYS,
  HISTORY_TABLE_NAME,
} from '../../contract/environment.js';
import { HistoryRetentionDays } from '../history/settings.js';
import { ClusterSettings } from '../shared/clusters.js';
import { readEnvironment } from '../shared/environment.js';
import {
  DescribeBudgetSettings,
  positiveInt,
  VerificationScheduleSettings,
} from '../shared/verification-settings.js';

export const SentinelEnvironment = ClusterSettings.extend({
  [HISTORY_TABLE_NAME]: z.string('is required: the verdict history table').min(1, 'is required'),
  [HISTORY_RETENTION_DAYS]: HistoryRetentionDays,
  [EVENT_BUS_NAME]: z.string('is required: the bus drift events are published to').min(1, 'is required'),
  ...VerificationScheduleSettings,
  [DRIFT_INTERVAL_SECONDS]: positiveInt(300),
  [DRIFT_WATCH_AFTER_SETTLED_SECONDS]: z.coerce.number().int().nonnegative().default(3_600),
  [DRIFT_DESCRIBE_SHARE]: z.coerce
    .number('must be a number from 0 to 1')
    .gt(0, 'must be above 0')
    .max(1, 'must be at most 1')
    .default(0.25),
  ...DescribeBudgetSettings,
});
export type SentinelSettings = z.infer<typeof SentinelEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): SentinelSettings {
  return readEnvironment(SentinelEnvironment, 'sentinel', env);
}
