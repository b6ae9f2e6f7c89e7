import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type middy from '@middy/core';
import { STATE_KEY_PREFIXES, type StateTableWriter } from '../../contract/state-table.js';

/**
 * Powertools idempotency on one field of the raw EventBridge event, so a duplicate delivery gets
 * the stored result instead of a second run. Without a table (local runs) it is off.
 * Placed before the parser: the key is read from the event as delivered.
 */
export function onceBy(options: {
  tableName: string | undefined;
  keyPath: string;
  ttlSeconds: number;
  /** Whose items: the record keys start with this function's prefix, the only ones its role may touch. */
  writer: StateTableWriter;
}) {
  if (!options.tableName) return [];
  return [
    onlyDeletingOwnRecords(
      makeHandlerIdempotent({
        persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.tableName }),
        keyPrefix: STATE_KEY_PREFIXES[options.writer],
        config: new IdempotencyConfig({
          eventKeyJmesPath: options.keyPath,
          expiresAfterSeconds: options.ttlSeconds,
        }),
      }),
    ),
  ];
}

/**
 * Powertools 2.35's middleware deletes the idempotency record in onError even when the error is
 * its own "already in progress" refusal of a duplicate (aws-powertools/powertools-lambda-typescript
 * #5675): the duplicate then erases the running invocation's record, and the next delivery runs a
 * second time. Only an invocation whose `before` went through — it wrote the record — may delete it.
 */
export function onlyDeletingOwnRecords(middleware: middy.MiddlewareObj): middy.MiddlewareObj {
  const holding = new WeakSet<object>();
  return {
    before: async (request) => {
      const early = await middleware.before?.(request);
      holding.add(request);
      return early;
    },
    after: middleware.after,
    onError: async (request) => {
      if (holding.has(request)) await middleware.onError?.(request);
    },
  };
}
