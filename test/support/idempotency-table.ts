import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** Just enough of a DynamoDB table for Powertools idempotency: conditional put, update, delete. */
export function inMemoryIdempotencyTable(dynamo: AwsClientStub<DynamoDBClient>) {
  const items = new Map<string, Record<string, unknown>>();
  dynamo.on(PutItemCommand).callsFake((input) => {
    const item = unmarshall(input.Item);
    const existing = items.get(String(item.id));
    const nowSeconds = Date.now() / 1000;
    if (existing && Number(existing.expiration) >= nowSeconds) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(existing),
      });
    }
    items.set(String(item.id), item);
    return {};
  });
  dynamo.on(UpdateItemCommand).callsFake((input) => {
    const key = String(unmarshall(input.Key).id);
    const values = unmarshall(input.ExpressionAttributeValues);
    const names = input.ExpressionAttributeNames as Record<string, string>;
    const item = items.get(key) ?? { id: key };
    for (const [placeholder, attribute] of Object.entries(names)) {
      const value = values[`:${placeholder.slice(1)}`];
      if (value !== undefined) item[attribute] = value;
    }
    items.set(key, item);
    return {};
  });
  dynamo.on(DeleteItemCommand).callsFake((input) => {
    items.delete(String(unmarshall(input.Key).id));
    return {};
  });
  return items;
}
