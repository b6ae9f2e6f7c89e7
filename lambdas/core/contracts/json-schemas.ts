import { z } from 'zod';
import {
  DRIFT_DETAIL_TYPE,
  DRIFT_EVENT_SOURCE,
  ROLLOUT_DETAIL_TYPES,
  ROLLOUT_EVENT_SOURCE,
  TRAFFIC_OBSERVED_DETAIL_TYPES,
  TRAFFIC_OBSERVED_EVENT_SOURCE,
  VERDICT_DETAIL_TYPES,
  VERDICT_EVENT_SOURCE,
} from '../../../contract/event-catalog.js';
import { DriftEventDetail } from './drift-event.js';
import { RolloutEventDetail } from './rollout-event.js';
import { TrafficObservedEventDetail } from './traffic-observed-event.js';
import { VerdictEventDetail } from './verdict-event.js';

const BASE_ID = 'https://rollout-verifier.dev/schemas/events/v1';

/** JSON Schema (draft 2020-12) of each event detail, annotated with where the events come from. */
export function eventSchemaDocuments(): Record<string, object> {
  return {
    'rollout-event.schema.json': {
      $id: `${BASE_ID}/rollout-event.schema.json`,
      title: 'Rollout event detail',
      description: `EventBridge detail of source "${ROLLOUT_EVENT_SOURCE}", detail-type one of: ${Object.values(ROLLOUT_DETAIL_TYPES).join(', ')}.`,
      ...z.toJSONSchema(RolloutEventDetail, { io: 'output', target: 'draft-2020-12' }),
    },
    'verdict-event.schema.json': {
      $id: `${BASE_ID}/verdict-event.schema.json`,
      title: 'Verdict event detail',
      description: `EventBridge detail of source "${VERDICT_EVENT_SOURCE}", detail-type one of: ${VERDICT_DETAIL_TYPES.join(', ')}.`,
      ...z.toJSONSchema(VerdictEventDetail, { io: 'output', target: 'draft-2020-12' }),
    },
    'traffic-observed-event.schema.json': {
      $id: `${BASE_ID}/traffic-observed-event.schema.json`,
      title: 'Traffic-observed event detail',
      description: `EventBridge detail of source "${TRAFFIC_OBSERVED_EVENT_SOURCE}", detail-type one of: ${TRAFFIC_OBSERVED_DETAIL_TYPES.join(', ')}.`,
      ...z.toJSONSchema(TrafficObservedEventDetail, { io: 'output', target: 'draft-2020-12' }),
    },
    'drift-event.schema.json': {
      $id: `${BASE_ID}/drift-event.schema.json`,
      title: 'Drift event detail',
      description: `EventBridge detail of source "${DRIFT_EVENT_SOURCE}", detail-type "${DRIFT_DETAIL_TYPE}": a verdict (Failed) of the drift sentinel, with the verdict it follows.`,
      ...z.toJSONSchema(DriftEventDetail, { io: 'output', target: 'draft-2020-12' }),
    },
  };
}
