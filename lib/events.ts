import { Duration } from 'aws-cdk-lib';
import { EventBus, type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
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
  readonly busName: string;
  readonly createBus: boolean;
}

/** The bus every stage publishes to and every rule listens on: created here, or an existing one by name. */
export class VerifierEvents extends Construct {
  readonly bus: IEventBus;

  constructor(scope: Construct, id: string, props: VerifierEventsProps) {
    super(scope, id);
    this.bus = props.createBus
      ? new EventBus(this, 'Bus', {
          eventBusName: props.busName,
          description: 'Argo Rollouts events and their verification verdicts',
        })
      : EventBus.fromEventBusName(this, 'Bus', props.busName);
  }

  /**
   * A rule delivering `pattern` to `fn`. EventBridge retries for an hour, then parks the event in
   * the rule's own dead-letter queue: nothing is dropped silently.
   */
  route(id: string, pattern: ContractEventPattern, fn: IFunction, description: string): Rule {
    const dlq = new DeadLetterQueue(this, `${id}DeadLetters`, `the ${id} rule's target`);
    const rule = new Rule(this, id, {
      eventBus: this.bus,
      eventPattern: toEventPattern(pattern),
      description,
    });
    rule.addTarget(
      new LambdaFunction(fn, {
        deadLetterQueue: dlq.queue,
        maxEventAge: Duration.hours(1),
        retryAttempts: 8,
      }),
    );
    return rule;
  }
}
