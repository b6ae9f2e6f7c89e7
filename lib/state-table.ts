import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_KEY_PREFIXES, STATE_KEY_SEPARATOR, type StateTableWriter } from '../contract/state-table.js';

/** Item expiry attribute (epoch seconds), as Powertools idempotency writes it. */
export const TTL_ATTRIBUTE = 'expiration';
/** Partition key name Powertools' DynamoDBPersistenceLayer expects by default. */
export const PARTITION_KEY = 'id';

/**
 * The item calls Powertools idempotency makes (DynamoDBPersistenceLayer: get, conditional put,
 * update, delete), nothing table-wide: no Scan, no Query, no batch or transaction calls.
 */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

/** What grantEncryptDecrypt grants, its wildcards spelled out (GenerateDataKeyPair* are not needed). */
export const TABLE_KEY_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

export interface StateTableProps {
  /**
   * Customer-managed key.
   * @default the AWS-managed DynamoDB key
   */
  readonly encryptionKey?: IKey;
}

/**
 * Idempotency records of verify and callback, each under its own key prefix: on-demand, TTL on `expiration`, point-in-time recovery,
 * encrypted with the AWS-managed key or a customer-managed one. Retained on stack deletion (the
 * RolloutVerifier's `removalPolicy` can say otherwise).
 */
export class StateTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Read/write on this table's items whose partition key starts with `writer`'s prefix, and nothing
   * else (`dynamodb:LeadingKeys`): the verify function cannot erase or forge the callback's records
   * of which verdicts it acted on, nor the other way round. Plus use of the key when customer-managed.
   */
  grantItems(grantee: IGrantable, writer: StateTableWriter): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'StateTableOwnItems',
        actions: TABLE_ACTIONS,
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${STATE_KEY_PREFIXES[writer]}${STATE_KEY_SEPARATOR}*`],
          },
        },
      }),
    );
    const key = this.table.encryptionKey;
    if (key) {
      // grantEncryptDecrypt would write kms:GenerateDataKey* and kms:ReEncrypt*: the exact actions
      // instead, and only when DynamoDB makes the call on the function's behalf.
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'StateTableKeyThroughDynamoDb',
          actions: TABLE_KEY_ACTIONS,
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
