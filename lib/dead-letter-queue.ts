import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * A dead-letter queue: encrypted at rest (SQS-managed SSE, which EventBridge and Lambda can write
 * to without a key policy), TLS-only, 14 days to look at what failed. Every queue is alarmed on.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: Queue;

  /** Every dead-letter queue created under `scope`'s tree, for the alarms. */
  static all(scope: Construct): DeadLetterQueue[] {
    return scope.node.findAll().filter((child): child is DeadLetterQueue => child instanceof DeadLetterQueue);
  }

  constructor(
    scope: Construct,
    id: string,
    readonly purpose: string,
    /** The redrive target of another queue: cdk-nag recognizes it as a DLQ, nothing to acknowledge. */
    options: { readonly redriveTarget?: boolean } = {},
  ) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    if (options.redriveTarget) return;
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        `This queue is itself the dead-letter queue of ${purpose}; a DLQ of a DLQ would only move the ` +
        'problem. Messages are kept 14 days and an alarm fires as soon as one arrives.',
    });
  }
}
