import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
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

/** A webhook token secret and the cluster its token speaks for (none: the unbound token of a stack without clusters). */
export interface WebhookTokenSecret {
  readonly cluster: string | undefined;
  readonly secret: Secret;
}

/**
 * Argo Rollouts notifications webhook → validated, normalized rollout events on the bus.
 * A Function URL with auth NONE: the notifications controller cannot sign SigV4 requests, so the
 * handler checks a static bearer token. Each cluster has its own token in its own Secrets Manager
 * secret (the value goes into that cluster's argo-rollouts-notification-secret), and a token
 * speaks for its own cluster only: one cluster's secret cannot publish events for another.
 */
export class Ingest extends Construct {
  readonly fn: VerifierFunction;
  readonly url: FunctionUrl;
  readonly tokens: readonly WebhookTokenSecret[];

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { settings } = props;
    const { clusters, sharedTokenCluster } = settings.ingest;
    this.tokens =
      clusters.length === 0
        ? [{ cluster: undefined, secret: this.tokenSecret(undefined, true) }]
        : clusters.map((cluster) => ({
            cluster,
            secret: this.tokenSecret(cluster, cluster === sharedTokenCluster),
          }));

    const bound = clusters.length > 0;
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
        // toJsonString: the ARNs are tokens, resolved inside the JSON at deploy time.
        ...(bound
          ? { WEBHOOK_TOKEN_SECRET_ARNS: Stack.of(this).toJsonString(this.secretArnsByCluster()) }
          : { WEBHOOK_TOKEN_SECRET_ARN: (this.tokens[0] as WebhookTokenSecret).secret.secretArn }),
      },
    });
    grantPutEvents(this.fn, props.events.bus);
    // The webhook tokens: these secrets, read only.
    this.fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadWebhookTokens',
        actions: ['secretsmanager:GetSecretValue'],
        resources: this.tokens.map(({ secret }) => secret.secretArn),
      }),
    );
    this.url = this.fn.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'WebhookUrl', { value: this.url.url, description: 'Argo notifications webhook URL' });
    if (bound) {
      new CfnOutput(this, 'WebhookTokenSecrets', {
        value: Stack.of(this).toJsonString(this.secretArnsByCluster()),
        description: 'Secret holding the webhook bearer token of each cluster (JSON: cluster → secret ARN)',
      });
    } else {
      new CfnOutput(this, 'WebhookTokenSecretArn', {
        value: (this.tokens[0] as WebhookTokenSecret).secret.secretArn,
        description: 'Secret holding the webhook bearer token (bound to no cluster: the stack names none)',
      });
    }
  }

  private secretArnsByCluster(): Record<string, string> {
    return Object.fromEntries(this.tokens.map(({ cluster, secret }) => [cluster ?? '', secret.secretArn]));
  }

  /**
   * A generated 48-character token. `shared`: the secret of the versions with one token for every
   * cluster, kept as it was (same construct id, same properties) so that CloudFormation leaves its
   * value alone and the cluster that keeps it needs no change.
   */
  private tokenSecret(cluster: string | undefined, shared: boolean): Secret {
    const secret = shared
      ? new Secret(this, 'WebhookToken', {
          description: 'Bearer token Argo Rollouts notifications present to the ingest webhook',
          generateSecretString: { passwordLength: 48, excludePunctuation: true },
        })
      : new Secret(this, `WebhookToken-${cluster}`, {
          description: `Bearer token the Argo Rollouts notifications of cluster ${cluster} present to the ingest webhook`,
          generateSecretString: { passwordLength: 48, excludePunctuation: true },
        });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A static bearer token copied into one cluster’s argo-rollouts-notification-secret: an automatic ' +
        'rotation would break that cluster’s webhook until its secret is updated. Rotated by hand, with ' +
        'the previous token accepted for a window (docs/security.md).',
    });
    return secret;
  }
}
