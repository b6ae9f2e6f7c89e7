import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

export const LOOKS_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/rollout-verifier-looks';
const LOOKS_QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:rollout-verifier-looks';

/** One looks-queue record as Lambda's event source mapping delivers it; `body` is sent as JSON unless a string. */
export function sqsRecord(body: unknown, messageId: string = randomUUID()): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: LOOKS_QUEUE_ARN,
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
