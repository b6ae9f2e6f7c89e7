import { Duration, Names } from 'aws-cdk-lib';
import { EventBus, type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.js';

/** A pattern as the contract writes it (EventBridge's JSON keys). */
export interface ContractEventPattern {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
}

/** The contract's pattern in CDK's camelCase form; it synthesizes back to exactly the contract's JSON. */
export function toEventPattern(pattern: ContractEventPattern): EventPattern {
  return { source: [...pattern.source], detailType: [...pattern['detail-type']] };
}

export interface VerifierEventsProps {
  /**
   * Name of the bus to create, or of the existing one when `createBus` is false.
   * @default `<stack name>-<construct path>-<hash>`: unique in the account and region
   */
  readonly busName?: string;
  /** Create the bus, or use the existing one named `busName`. */
  readonly createBus: boolean;
  /**
   * Use this bus instead of creating or naming one.
   * @default as `busName` and `createBus` say
   */
  readonly bus?: IEventBus;
}

/** The bus every stage publishes to and every rule listens on: created here, or an existing one. */
export class VerifierEvents extends Construct {
  readonly bus: IEventBus;

  constructor(scope: Construct, id: string, props: VerifierEventsProps) {
    super(scope, id);
    if (props.bus) {
      this.bus = props.bus;
    } else if (props.createBus) {
      this.bus = new EventBus(this, 'Bus', {
        // CloudFormation requires a name and CDK's default leaves out the stack name: two stacks of one
        // account with the same construct ids (dev and prod apps) would fight over it. This one has it.
        eventBusName:
          props.busName ??
          Names.uniqueResourceName(this, { maxLength: 256, separator: '-', allowedSpecialCharacters: '._' }),
        description: 'Argo Rollouts events and their verification verdicts',
      });
    } else {
      // resolveSettings requires the name with createBus false.
      this.bus = EventBus.fromEventBusName(this, 'Bus', props.busName ?? '');
    }
  }

  /**
   * A rule delivering `pattern` to a function (an asynchronous invocation) or a queue (the whole
   * event as the message body). EventBridge retries for an hour, then parks the event in the rule's
   * own dead-letter queue: nothing is dropped silently.
   */
  route(
    id: string,
    pattern: ContractEventPattern,
    destination: IFunction | IQueue,
    description: string,
  ): Rule {
    const dlq = new DeadLetterQueue(this, `${id}DeadLetters`, `the ${id} rule's target`);
    const rule = new Rule(this, id, {
      eventBus: this.bus,
      eventPattern: toEventPattern(pattern),
      description,
    });
    const delivery = { deadLetterQueue: dlq.queue, maxEventAge: Duration.hours(1), retryAttempts: 8 };
    rule.addTarget(
      isQueue(destination) ? new SqsQueue(destination, delivery) : new LambdaFunction(destination, delivery),
    );
    return rule;
  }
}

function isQueue(destination: IFunction | IQueue): destination is IQueue {
  return 'queueArn' in destination;
}
