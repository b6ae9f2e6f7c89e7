export {
  type EventSource,
  type EventSourceOptions,
  type EventSourceStats,
  failuresIn,
  recordOf,
  startEventSource,
} from './event-source.js';
export { eventBridgeMessageBody, sqsTarget } from './eventbridge-target.js';
export {
  type MessageAttributes,
  type MessageAttributeValue,
  md5OfMessageAttributes,
} from './message.js';
export {
  type MessageState,
  type MessageView,
  type QueueCounts,
  type ReceivedMessage,
  type SendResult,
  SqsSimClosed,
} from './queue.js';
export {
  type ReceiveInput,
  type RequestOrigin,
  type SendMessageInput,
  type SqsCall,
  type SqsSim,
  type SqsSimOptions,
  startSqsSim,
} from './server.js';
