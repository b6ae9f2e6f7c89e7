import { LAB_REGION } from './moto.js';

/**
 * The few AWS calls the lab makes for which the project has no SDK client (SQS, EC2), spoken on
 * the wire to moto. moto reads the region from the credential scope of the Authorization header
 * and does not check signatures, so the header carries the scope and no real signature.
 */
function authorization(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=lab/20260101/${LAB_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** AWS JSON 1.0 protocol (SQS). */
export async function awsJson<T>(
  endpoint: string,
  service: string,
  target: string,
  body: unknown,
): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      authorization: authorization(service),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${target} → ${response.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** AWS Query protocol (EC2): returns the XML answer. */
export async function awsQuery(
  endpoint: string,
  service: string,
  version: string,
  params: Record<string, string>,
): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: authorization(service),
    },
    body: new URLSearchParams({ ...params, Version: version }).toString(),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${service} ${params.Action} → ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

/** The first `<tag>…</tag>` of an XML answer. */
export function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

export interface SqsMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
}

export const sqs = {
  async createQueue(endpoint: string, name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await awsJson<{ QueueUrl: string }>(endpoint, 'sqs', 'AmazonSQS.CreateQueue', {
      QueueName: name,
    });
    const { Attributes } = await awsJson<{ Attributes: { QueueArn: string } }>(
      endpoint,
      'sqs',
      'AmazonSQS.GetQueueAttributes',
      { QueueUrl, AttributeNames: ['QueueArn'] },
    );
    return { url: QueueUrl, arn: Attributes.QueueArn };
  },
  async receive(endpoint: string, url: string, waitSeconds: number): Promise<SqsMessage[]> {
    const answer = await awsJson<{ Messages?: SqsMessage[] }>(endpoint, 'sqs', 'AmazonSQS.ReceiveMessage', {
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: 900,
      MessageSystemAttributeNames: ['All'],
    });
    return answer.Messages ?? [];
  },
  async changeVisibility(
    endpoint: string,
    url: string,
    receiptHandle: string,
    seconds: number,
  ): Promise<void> {
    await awsJson(endpoint, 'sqs', 'AmazonSQS.ChangeMessageVisibility', {
      QueueUrl: url,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    });
  },
  async delete(endpoint: string, url: string, receiptHandle: string): Promise<void> {
    await awsJson(endpoint, 'sqs', 'AmazonSQS.DeleteMessage', {
      QueueUrl: url,
      ReceiptHandle: receiptHandle,
    });
  },
};
