import type { DeliveredEvent } from '../eventbridge/index.js';
import type { SendResult } from './queue.js';
import type { SqsSim } from './server.js';

/**
 * What an EventBridge rule's SQS target does with a matched event (no input transformer): one
 * SendMessage to the queue whose body is the whole event envelope as JSON — version, id,
 * detail-type, source, account, time, region, resources, detail, in that order. Counted as a
 * SendMessage request of origin 'eventbridge'. Use it as a `BusRule` target of sim/eventbridge:
 *
 *   bus.addRule({ name: 'looks', pattern, target: sqsTarget(sqs, queueUrl) });
 */
export function sqsTarget(
  sqs: Pick<SqsSim, 'sendMessage'>,
  queueUrl: string,
  options: { senderId?: string } = {},
): (event: DeliveredEvent) => Promise<SendResult> {
  return async (event) =>
    sqs.sendMessage(
      queueUrl,
      { body: eventBridgeMessageBody(event), ...(options.senderId ? { senderId: options.senderId } : {}) },
      'eventbridge',
    );
}

/** The body EventBridge's SQS target sends: the event envelope, keys in the service's order. */
export function eventBridgeMessageBody(event: DeliveredEvent): string {
  return JSON.stringify({
    version: event.version,
    id: event.id,
    'detail-type': event['detail-type'],
    source: event.source,
    account: event.account,
    time: event.time,
    region: event.region,
    resources: event.resources,
    detail: event.detail,
  });
}
