import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { HISTORY_RETENTION_DAYS, HISTORY_TABLE_NAME } from '../contract/environment.js';
import { VERDICT_EVENT_PATTERN } from '../contract/event-catalog.js';
import {
  HISTORY_PARTITION_KEY,
  HISTORY_SORT_KEY,
  HISTORY_TTL_ATTRIBUTE,
  WATCH_PARTITION,
} from '../contract/history-table.js';
import type { VerifierEvents } from './events.js';
import type { HandlerCode } from './handler-code.js';
import type { ResolvedSettings } from './settings.js';
import { TABLE_KEY_ACTIONS } from './state-table.js';
import { VerifierFunction } from './verifier-function.js';

/** Writing one verdict: a conditional put, nothing else (no update, no delete: history is append-only). */
export const HISTORY_WRITE_ACTIONS = ['dynamodb:PutItem'];
/** Keeping the watch list current: updates, of the watch-list partition's items only. */
export const WATCH_LIST_ACTIONS = ['dynamodb:UpdateItem'];
/** Reading a rollout's timeline: Query on the table's own key, no Scan, no index. */
export const HISTORY_READ_ACTIONS = ['dynamodb:Query'];

export interface VerdictHistoryProps {
  readonly settings: ResolvedSettings;
  readonly events: VerifierEvents;
  /**
   * Customer-managed key.
   * @default the AWS-managed DynamoDB key
   */
  readonly encryptionKey?: IKey;
}

/**
 * Every verdict, kept with its evidence (contract/history-table.ts): a table partitioned by rollout
 * and sorted by revision, step and time, with a TTL, and the function that records each verdict
 * event of the bus into it. Retained on stack deletion (the RolloutVerifier's `removalPolicy` can
 * say otherwise).
 */
export class VerdictHistory extends Construct {
  readonly table: Table;
  readonly fn: VerifierFunction;
  readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: VerdictHistoryProps) {
    super(scope, id);
    const { settings } = props;
    this.retentionDays = settings.history.retentionDays;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: HISTORY_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: HISTORY_SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: HISTORY_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.fn = new VerifierFunction(this, 'Recorder', {
      code: settings.history.code as HandlerCode,
      description: 'Records every verdict, with its evidence, in the verdict history table',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logs: settings.logs,
      logLevel: settings.logLevel,
      serviceName: settings.serviceName,
      environment: this.environment(),
    });
    this.grantRecord(this.fn.role);
    props.events.route(
      'VerdictsToHistory',
      VERDICT_EVENT_PATTERN,
      this.fn.function,
      'Verdicts to the history',
    );
  }

  /** The variables a function reading or writing the history needs (contract/environment.ts). */
  environment(): Record<string, string> {
    return {
      [HISTORY_TABLE_NAME]: this.table.tableName,
      [HISTORY_RETENTION_DAYS]: String(this.retentionDays),
    };
  }

  /**
   * Lets `grantee` add verdicts (PutItem) and update the watch list (UpdateItem on the watch-list
   * partition only, `dynamodb:LeadingKeys`), and use the table's key when customer-managed.
   */
  grantRecord(grantee: IGrantable): void {
    this.grant(grantee, 'RecordVerdicts', HISTORY_WRITE_ACTIONS);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'UpdateWatchList',
        actions: WATCH_LIST_ACTIONS,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [WATCH_PARTITION] } },
      }),
    );
  }

  /** Lets `grantee` read timelines (Query only), and use the table's key when customer-managed. */
  grantReadHistory(grantee: IGrantable): void {
    this.grant(grantee, 'ReadVerdictHistory', HISTORY_READ_ACTIONS);
  }

  private grant(grantee: IGrantable, sid: string, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ sid, actions, resources: [this.table.tableArn] }),
    );
    const key = this.table.encryptionKey;
    if (key) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          sid: `${sid}Key`,
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
