import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { VerifierEvents } from './events.js';
import type { ResolvedSettings } from './settings.js';
import { VerifierFunction } from './verifier-function.js';
import { grantPutEvents } from './verify.js';

export interface IngestProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
}

/**
 * Argo Rollouts notifications webhook → validated, normalized rollout events on the bus.
 * A Function URL with auth NONE: the notifications controller cannot sign SigV4 requests, so the
 * handler checks a static bearer token kept in one Secrets Manager secret (the same value goes
 * into each cluster's argo-rollouts-notification-secret).
 */
export class Ingest extends Construct {
  readonly fn: VerifierFunction;
  readonly url: FunctionUrl;
  readonly token: Secret;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { settings } = props;
    this.token = new Secret(this, 'WebhookToken', {
      description: 'Bearer token Argo Rollouts notifications present to the ingest webhook',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(this.token).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A static bearer token shared with argo-rollouts-notification-secret in every cluster: an automatic ' +
        'rotation would break the webhook until each cluster is updated. Rotate by hand (docs/deploy.md).',
    });

    this.fn = new VerifierFunction(this, 'Ingest', {
      entry: settings.ingest.entry,
      description: 'Receives Argo Rollouts notifications and publishes rollout events',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      reservedConcurrentExecutions: settings.ingest.reservedConcurrency,
      environment: {
        EVENT_BUS_NAME: props.events.bus.eventBusName,
        WEBHOOK_TOKEN_SECRET_ARN: this.token.secretArn,
      },
    });
    grantPutEvents(this.fn, props.events.bus);
    // The webhook token: this one secret, read only.
    this.fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadWebhookToken',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.token.secretArn],
      }),
    );
    this.url = this.fn.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'WebhookUrl', { value: this.url.url, description: 'Argo notifications webhook URL' });
    new CfnOutput(this, 'WebhookTokenSecretArn', {
      value: this.token.secretArn,
      description: 'Secret holding the webhook bearer token',
    });
  }
}
