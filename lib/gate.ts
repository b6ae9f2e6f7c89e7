import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  VERIFY_DEADLINE_SECONDS,
  WEBHOOK_TOKEN_SECRET_ARN,
  WEBHOOK_TOKEN_SECRET_ARNS,
} from '../contract/environment.js';
import { clusterEnvironment, grantClusterSecrets } from './cluster-access.js';
import type { HandlerCode } from './handler-code.js';
import type { VerdictHistory } from './history.js';
import type { Ingest } from './ingest.js';
import type { ResolvedSettings } from './settings.js';
import { VerifierFunction, type VerifierFunctionProps } from './verifier-function.js';
import { ELB_DESCRIBE_ACTIONS } from './verify.js';

export interface AnalysisGateProps {
  readonly settings: ResolvedSettings;
  readonly history: VerdictHistory;
  /** Whose token secrets open the gate: a cluster's webhook token speaks for that cluster here too. */
  readonly ingest: Ingest;
  readonly network: Pick<VerifierFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * The analysis gate: a Function URL an Argo Rollouts `web` metric calls (docs/analysis-gate.md).
 * It answers the verdict of a rollout's current step from the history, or verifies on demand; and
 * a rollout's timeline (`/history`). Auth NONE on the URL because Argo's web provider sends static
 * headers only: the function checks the same per-cluster bearer tokens as the webhook. Cluster
 * access is granted by the caller (the observer group: it reads Rollouts and routes only).
 */
export class AnalysisGate extends Construct {
  readonly fn: VerifierFunction;
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: AnalysisGateProps) {
    super(scope, id);
    const { settings, history, ingest } = props;
    const bound = ingest.tokens.some(({ cluster }) => cluster !== undefined);
    this.fn = new VerifierFunction(this, 'Gate', {
      code: settings.gate.code as HandlerCode,
      description: 'Argo Rollouts analysis gate: answers the verdict of a rollout step, verifying on demand',
      memorySize: 256,
      timeout: Duration.seconds(settings.gate.timeoutSeconds),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      environment: {
        ...history.environment(),
        [VERIFY_DEADLINE_SECONDS]: String(settings.deadlineSeconds),
        ...clusterEnvironment(this, settings),
        ...(bound
          ? {
              [WEBHOOK_TOKEN_SECRET_ARNS]: Stack.of(this).toJsonString(
                Object.fromEntries(
                  ingest.tokens.map(({ cluster, secret }) => [cluster ?? '', secret.secretArn]),
                ),
              ),
            }
          : { [WEBHOOK_TOKEN_SECRET_ARN]: ingest.tokens[0]?.secret.secretArn ?? '' }),
      },
      ...props.network,
    });
    grantClusterSecrets(this.fn.role, settings.clusterSecrets);
    // Stored verdicts and timelines (Query), and the verdicts it decides on demand (PutItem).
    history.grantReadHistory(this.fn.role);
    history.grantRecord(this.fn.role);
    this.fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadWebhookTokens',
        actions: ['secretsmanager:GetSecretValue'],
        resources: ingest.tokens.map(({ secret }) => secret.secretArn),
      }),
    );
    // On-demand verification observes the ALB as the verify function does (no resource-level permissions).
    this.fn.addUnscopedStatement(
      new PolicyStatement({ sid: 'ReadLoadBalancers', actions: ELB_DESCRIBE_ACTIONS, resources: ['*'] }),
    );
    this.url = this.fn.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'AnalysisGateUrl', {
      value: this.url.url,
      description: 'Analysis gate URL for the ClusterAnalysisTemplate (deploy/cluster/analysis)',
    });
  }
}
