import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Item expiry attribute (epoch seconds), as Powertools idempotency writes it. */
export const TTL_ATTRIBUTE = 'expiration';
/** Partition key name Powertools' DynamoDBPersistenceLayer expects by default. */
export const PARTITION_KEY = 'id';

/** The item-level actions idempotency records and verdict history need, nothing table-wide (no Scan, no batch). */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];

export interface StateTableProps {
  readonly encryptionKey?: IKey;
}

/**
 * Idempotency records and verdict history: on-demand, TTL on `expiration`, point-in-time recovery,
 * encrypted with the AWS-managed key or a customer-managed one. Retained on stack deletion.
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

  /** Read/write on this one table's items (and use of its key when customer-managed). */
  grantItems(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'StateTableItems',
        actions: TABLE_ACTIONS,
        resources: [this.table.tableArn],
      }),
    );
    this.table.encryptionKey?.grantEncryptDecrypt(grantee);
  }
}
