import { z } from 'zod';
import {
  EVENT_BUS_NAME,
  TRAFFIC_MIN_REQUESTS,
  TRAFFIC_PUBLICATION_DELAY_SECONDS,
  TRAFFIC_TOLERANCE,
  TRAFFIC_WINDOW_SECONDS,
} from '../../contract/environment.js';
import { DEFAULT_TRAFFIC_LOOK_SETTINGS } from '../core/traffic/traffic-look.js';
import { readEnvironment } from '../shared/environment.js';

export const TrafficEnvironment = z.object({
  [EVENT_BUS_NAME]: z
    .string()
    .min(1, 'EVENT_BUS_NAME must name the bus traffic-observed events are published to'),
  /** From the configuration verdict, how long the step's window stays open. */
  [TRAFFIC_WINDOW_SECONDS]: z.coerce
    .number()
    .int()
    .min(60)
    .max(840)
    .default(DEFAULT_TRAFFIC_LOOK_SETTINGS.windowSeconds),
  /** The queue delays each look by window + this; the function only records it in its logs. */
  [TRAFFIC_PUBLICATION_DELAY_SECONDS]: z.coerce
    .number()
    .int()
    .min(0)
    .max(840)
    .default(DEFAULT_TRAFFIC_LOOK_SETTINGS.publicationDelaySeconds),
  [TRAFFIC_TOLERANCE]: z.coerce.number().gt(0).lt(0.5).default(DEFAULT_TRAFFIC_LOOK_SETTINGS.tolerance),
  [TRAFFIC_MIN_REQUESTS]: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_TRAFFIC_LOOK_SETTINGS.minRequests),
});
export type TrafficSettingsEnv = z.infer<typeof TrafficEnvironment>;

export function readSettings(env: NodeJS.ProcessEnv = process.env): TrafficSettingsEnv {
  return readEnvironment(TrafficEnvironment, 'traffic', env);
}
