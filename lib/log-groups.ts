import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface LogGroupSettings {
  readonly retention: RetentionDays;
  /**
   * Customer-managed key.
   * @default none: CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: IKey;
}

/** Every log group of the stack: the same retention, and the customer-managed key when there is one. */
export function verifierLogGroup(scope: Construct, id: string, settings: LogGroupSettings): LogGroup {
  return new LogGroup(scope, id, {
    retention: settings.retention,
    ...(settings.encryptionKey ? { encryptionKey: settings.encryptionKey } : {}),
  });
}

/**
 * CloudWatch Logs encrypts with a customer-managed key only if the key policy lets the regional
 * Logs service principal use it. The statement AWS documents, limited by the encryption context to
 * log groups of this account and region. A key created elsewhere (imported) cannot be changed from
 * here: its policy needs the same statement (docs/security.md), and synthesis says so.
 */
export function allowCloudWatchLogs(key: IKey): void {
  const stack = Stack.of(key);
  const added = key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccount',
      principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
    /* allowNoOp */ true,
  );
  if (!added.statementAdded) {
    Annotations.of(key).addInfo(
      'logEncryptionKey is not managed by this stack: its key policy must let logs.<region>.amazonaws.com ' +
        'use it for this account’s log groups (docs/security.md, "Log encryption"), or creating the log groups fails.',
    );
  }
}
