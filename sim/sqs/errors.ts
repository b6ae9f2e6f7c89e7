/**
 * SQS errors as the service answers them over AWS JSON 1.0 with awsQueryCompatible: the body's
 * `__type` names the modeled shape (`com.amazonaws.sqs#QueueDoesNotExist`), the
 * `x-amzn-query-error` header carries the old Query API code and fault
 * (`AWS.SimpleQueueService.NonExistentQueue;Sender`). Shapes, codes and statuses are the ones in
 * @aws-sdk/client-sqs's schema (its `awsQueryError` traits); unmodeled errors
 * (InvalidParameterValue, MissingParameter, …) use their Query code for both.
 */
export class SqsError extends Error {
  constructor(
    /** The `__type` shape name (what the SDK's error `name` becomes). */
    readonly shape: string,
    /** The Query API code in `x-amzn-query-error`. */
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  get fault(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender';
  }
}

export const invalidParameter = (message: string) =>
  new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);

export const missingParameter = (name: string) =>
  new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`);

export const queueDoesNotExist = () =>
  new SqsError(
    'QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue',
    'The specified queue does not exist.',
  );

export const receiptHandleIsInvalid = (handle: string) =>
  new SqsError(
    'ReceiptHandleIsInvalid',
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${handle.slice(0, 64)}" is not a valid receipt handle.`,
    404,
  );

export const messageNotInflight = () =>
  new SqsError(
    'MessageNotInflight',
    'AWS.SimpleQueueService.MessageNotInflight',
    'Message is not in flight.',
  );

export const emptyBatch = (entry: string) =>
  new SqsError(
    'EmptyBatchRequest',
    'AWS.SimpleQueueService.EmptyBatchRequest',
    `There should be at least one ${entry} in the request.`,
  );

export const tooManyEntries = (count: number) =>
  new SqsError(
    'TooManyEntriesInBatchRequest',
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    `Maximum number of entries per request are 10. You have sent ${count}.`,
  );

export const idsNotDistinct = (id: string) =>
  new SqsError(
    'BatchEntryIdsNotDistinct',
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    `Id ${id} repeated.`,
  );

export const invalidBatchEntryId = () =>
  new SqsError(
    'InvalidBatchEntryId',
    'AWS.SimpleQueueService.InvalidBatchEntryId',
    'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
  );

export const batchRequestTooLong = (limit: number, sent: number) =>
  new SqsError(
    'BatchRequestTooLong',
    'AWS.SimpleQueueService.BatchRequestTooLong',
    `Batch requests cannot be longer than ${limit} bytes. You have sent ${sent} bytes.`,
  );

export const invalidMessageContents = () =>
  new SqsError(
    'InvalidMessageContents',
    'InvalidMessageContents',
    'Invalid binary character in the message body: only #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF are allowed.',
  );

export const invalidAttributeName = (name: string) =>
  new SqsError('InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`);

export const queueNameExists = (name: string) =>
  new SqsError(
    'QueueNameExists',
    'QueueAlreadyExists',
    `A queue already exists with the same name (${name}) and a different value for an attribute.`,
  );
