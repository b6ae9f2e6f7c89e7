import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { STATE_KEY_PREFIXES } from '../../contract/state-table.js';
import type { Delivery } from './delivery.js';
import type { DeliveryOutcome } from './looks.js';

export type OnceForDelivery = (
  delivery: Delivery,
  context: Context,
  run: () => Promise<DeliveryOutcome>,
) => Promise<DeliveryOutcome>;

/**
 * Powertools idempotency on a rollout event's first delivery, so a verification starts once per
 * eventId (the dedup key ingest sets) whatever Argo, EventBridge and SQS deliver twice; a
 * duplicate gets the stored outcome. Continuations are not tracked: each would cost two more
 * writes per look, for what SQS does rarely (deliver one message twice), and what it causes is
 * harmless — a second chain of looks publishing the same verdictId, which every consumer of
 * verdicts deduplicates on. Without a table (local runs) it is off.
 */
export function onceForDelivery(options: {
  tableName: string | undefined;
  ttlSeconds: number;
}): OnceForDelivery {
  if (!options.tableName) return (_delivery, _context, run) => run();
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: options.ttlSeconds });
  const idempotent = makeIdempotent(
    async (_key: { key: string }, run: () => Promise<DeliveryOutcome>) => await run(),
    {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.tableName }),
      // The verify role may only touch items under its own prefix (contract/state-table.ts).
      keyPrefix: STATE_KEY_PREFIXES.verify,
      config,
      dataIndexArgument: 0,
    },
  );
  return async (delivery, context, run) => {
    if (delivery.kind === 'continuation') return await run();
    // An in-progress record expires with the invocation, so a crashed one does not block its redelivery.
    config.registerLambdaContext(context);
    try {
      // The rollout event's eventId, kept apart from other keys under verify's prefix.
      return await idempotent({ key: `event:${delivery.event.eventId}` }, run);
    } catch (error) {
      // Another invocation is on it. Its own message stays on the queue until it succeeds (and comes
      // back if it crashes), so this copy can go: left on the queue, it would only come back after
      // the visibility timeout (minutes) to be answered from the table.
      if (error instanceof IdempotencyAlreadyInProgressError) {
        return { outcome: 'skipped', reason: 'a duplicate of a delivery being verified now' };
      }
      throw error;
    }
  };
}
