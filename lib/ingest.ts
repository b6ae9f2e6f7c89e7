import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import { EndpointType, LambdaIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  ALLOWED_SOURCE_CIDRS,
  EVENT_BUS_NAME,
  WEBHOOK_TOKEN_SECRET_ARN,
  WEBHOOK_TOKEN_SECRET_ARNS,
} from '../contract/environment.js';
import type { VerifierEvents } from './events.js';
import type { HandlerCode } from './handler-code.js';
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
  /** The URL Argo posts to (before `?cluster=`): the Function URL, or the REST API front's stage. */
  readonly webhookUrl: string;
  /** The Function URL, unless the REST API front replaces it. */
  readonly url?: FunctionUrl;
  /** The REST API front, when `front: 'restApi'`. */
  readonly api?: RestApi;
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
      code: settings.ingest.code as HandlerCode,
      description: 'Receives Argo Rollouts notifications and publishes rollout events',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      reservedConcurrentExecutions: settings.ingest.reservedConcurrency,
      environment: {
        [EVENT_BUS_NAME]: props.events.bus.eventBusName,
        ...(settings.ingest.allowedSourceCidrs.length > 0
          ? { [ALLOWED_SOURCE_CIDRS]: settings.ingest.allowedSourceCidrs.join(',') }
          : {}),
        // toJsonString: the ARNs are tokens, resolved inside the JSON at deploy time.
        ...(bound
          ? { [WEBHOOK_TOKEN_SECRET_ARNS]: Stack.of(this).toJsonString(this.secretArnsByCluster()) }
          : { [WEBHOOK_TOKEN_SECRET_ARN]: (this.tokens[0] as WebhookTokenSecret).secret.secretArn }),
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
    if (settings.ingest.front === 'restApi') {
      this.api = this.restApiFront(settings);
      this.webhookUrl = this.api.url;
    } else {
      this.url = this.fn.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
      this.webhookUrl = this.url.url;
    }
    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhookUrl,
      description: 'Argo notifications webhook URL',
    });
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

  /**
   * A regional REST API in front of the function, for what a Function URL cannot do before Lambda
   * is invoked: refuse sources outside the allow-list (resource policy), throttle (stage), and run a
   * WAF web ACL. A flood from elsewhere then never takes the function's reserved concurrency from
   * Argo. Only POST / reaches the function; anything else API Gateway answers itself.
   */
  private restApiFront(settings: ResolvedSettings): RestApi {
    const { allowedSourceCidrs, restApiThrottle, webAclArn } = settings.ingest;
    const anyone = [new AnyPrincipal()];
    const api = new RestApi(this, 'Front', {
      description: 'Argo Rollouts notifications webhook (in front of the ingest function)',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      deployOptions: {
        stageName: 'webhook',
        throttlingRateLimit: restApiThrottle.rateLimit,
        throttlingBurstLimit: restApiThrottle.burstLimit,
      },
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'PostToTheWebhook',
            principals: anyone,
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*/POST/'],
          }),
          ...(allowedSourceCidrs.length > 0
            ? [
                new PolicyStatement({
                  sid: 'OnlyFromTheClusters',
                  effect: Effect.DENY,
                  principals: anyone,
                  actions: ['execute-api:Invoke'],
                  resources: ['execute-api:/*'],
                  conditions: { NotIpAddress: { 'aws:SourceIp': [...allowedSourceCidrs] } },
                }),
              ]
            : []),
        ],
      }),
      cloudWatchRole: false,
    });
    api.root.addMethod('POST', new LambdaIntegration(this.fn.function));
    if (webAclArn) {
      new CfnWebACLAssociation(this, 'FrontWebAcl', { resourceArn: api.deploymentStage.stageArn, webAclArn });
    }
    const because = (id: string, reason: string) => Validations.of(api).acknowledge({ id, reason });
    because(
      'AwsSolutions-APIG4',
      'The webhook is called by the Argo Rollouts notifications controller, which can send only static headers: ' +
        'no IAM signature, Cognito or API key flow. The function checks the bearer token of each cluster.',
    );
    because(
      'AwsSolutions-COG4',
      'No Cognito user pool: the caller is a controller with a static bearer token, checked by the function.',
    );
    because(
      'AwsSolutions-APIG2',
      'The function validates every request itself (size, depth, schema) and answers 4xx naming the problem; an ' +
        'API Gateway model would duplicate the Rollout schema and give Argo less precise errors.',
    );
    for (const id of ['AwsSolutions-APIG1', 'AwsSolutions-APIG6']) {
      because(
        id,
        'API Gateway logging needs the account-wide API Gateway CloudWatch role, an account setting this construct ' +
          'does not change. The function logs every request that reaches it with its source IP and outcome.',
      );
    }
    if (!webAclArn) {
      because(
        'AwsSolutions-APIG3',
        'A WAF web ACL is optional (ingest.webAclArn): the resource policy already limits the sources when ' +
          'ingest.allowedSourceCidrs is set, and the stage throttles every caller.',
      );
    }
    return api;
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
