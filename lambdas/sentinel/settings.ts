import { z } from 'zod';
import {
  DRIFT_DESCRIBE_SHARE,
  DRIFT_INTERVAL_SECONDS,
  DRIFT_WATCH_AFTER_SETTLED_SECONDS,
  ELB_DESCRIBE_BURST,
  ELB_DESCRIBE_RATE_PER_SECOND,
  EVENT_BUS_NAME,
  HISTORY_RETENTION_DAYS,
  HISTORY_TABLE_NAME,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_INITIAL_DELAY_MS,
  VERIFY_MAX_DELAY_MS,
} from '../../contract/environment.js';
import { DEFAULT_DEADLINE_SECONDS } from '../core/verify.js';
import { HistoryRetentionDays } from '../history/settings.js';
import { ClusterSettings } from '../shared/clusters.js';
import { readEnvironment } from '../shared/environment.js';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const SentinelEnvironment = ClusterSettings.extend({
  [HISTORY_TABLE_NAME]: z.string('is required: the verdict history table').min(1, 'is required'),
  [HISTORY_RETENTION_DAYS]: HistoryRetentionDays,
  [EVENT_BUS_NAME]: z.string('is required: the bus drift events are published to').min(1, 'is required'),
  [VERIFY_DEADLINE_SECONDS]: positiveInt(DEFAULT_DEADLINE_SECONDS).pipe(z.number().max(900)),
  [VERIFY_INITIAL_DELAY_MS]: positiveInt(1_000),
  [VERIFY_MAX_DELAY_MS]: positiveInt(5_000),
  [DRIFT_INTERVAL_SECONDS]: positiveInt(300),
  [DRIFT_WATCH_AFTER_SETTLED_SECONDS]: z.coerce.number().int().nonnegative().default(3_600),
  [DRIFT_DESCRIBE_SHARE]: z.coerce
    .number('must be a number from 0 to 1')
    .gt(0, 'must be above 0')
    .max(1, 'must be at most 1')
    .default(0.25),
  [ELB_DESCRIBE_RATE_PER_SECOND]: z.coerce.number().positive().default(10),
  [ELB_DESCRIBE_BURST]: z.coerce.number().int().positive().default(40),
});
export type SentinelSettings = z.infer<typeof SentinelEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): SentinelSettings {
  return readEnvironment(SentinelEnvironment, 'sentinel', env);
}
