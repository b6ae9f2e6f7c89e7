import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RolloutVerifier } from './rollout-verifier.js';
import type { RolloutVerifierProps } from './settings.js';

export interface RolloutVerifierStackProps extends StackProps {
  /**
   * The verifier's settings.
   * @default {} (every RolloutVerifierProps default)
   */
  readonly verifier?: RolloutVerifierProps;
}

/** The deployable unit of `bin/app.ts`: one RolloutVerifier and the outputs operators copy into clusters. */
export class RolloutVerifierStack extends Stack {
  readonly verifier: RolloutVerifier;

  constructor(scope: Construct, id: string, props: RolloutVerifierStackProps = {}) {
    super(scope, id, {
      description: 'rollout-verifier: independent verification of Argo Rollouts traffic shifts on AWS ALBs',
      ...props,
    });
    this.verifier = new RolloutVerifier(this, 'Verifier', props.verifier);
    const { settings } = this.verifier;

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('EventBusName', this.verifier.bus.eventBusName, 'Bus carrying rollout events and verdicts');
    output('EventBusArn', this.verifier.bus.eventBusArn, 'Bus ARN (for rules of your own on verdicts)');
    output('StateTableName', this.verifier.table.tableName, 'Idempotency records of verify and callback');
    output('AlarmTopicArn', this.verifier.alarmTopic.topicArn, 'SNS topic every alarm notifies');
    output('VerifyFunctionName', this.verifier.verify.fn.function.functionName, 'Verify function');
    output('VerifyRoleArn', this.verifier.verify.fn.role.roleArn, 'Verify role (EKS access entry principal)');
    output('DashboardName', this.verifier.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
    // The callback's policies: on its environment once it exists, here in any case so they are visible.
    output('OnFailurePolicy', settings.onFailure, 'Callback action on a Failed verdict (abort|none)');
    output('OnSuccessPolicy', settings.onSuccess, 'Callback action on a Succeeded verdict (promote|none)');
    output(
      'OnInconclusivePolicy',
      settings.onInconclusive,
      'Callback action on an Inconclusive verdict (abort|none)',
    );
    if (this.verifier.callback) {
      output(
        'CallbackRoleArn',
        this.verifier.callback.fn.role.roleArn,
        'Callback role (EKS access entry principal)',
      );
    }
    if (this.verifier.history) {
      output(
        'HistoryTableName',
        this.verifier.history.table.tableName,
        'Verdict history (rollout-verifier history ns/name --table <this>)',
      );
    }
  }
}
