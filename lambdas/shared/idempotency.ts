import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';

/**
 * Powertools idempotency on one field of the raw EventBridge event, so a duplicate delivery gets
 * the stored result instead of a second run. Without a table (local runs) it is off.
 * Placed before the parser: the key is read from the event as delivered.
 */
export function onceBy(options: { tableName: string | undefined; keyPath: string; ttlSeconds: number }) {
  if (!options.tableName) return [];
  return [
    makeHandlerIdempotent({
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.tableName }),
      config: new IdempotencyConfig({
        eventKeyJmesPath: options.keyPath,
        expiresAfterSeconds: options.ttlSeconds,
      }),
    }),
  ];
}
