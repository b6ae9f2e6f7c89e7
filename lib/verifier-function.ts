import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type CfnFunction,
  Code,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  POWERTOOLS_LOG_LEVEL,
  POWERTOOLS_METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME,
} from '../contract/environment.js';
import { cdkEsbuildArgs, LAMBDA_BUNDLE } from './bundling.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { type HandlerCode, PROJECT_ROOT } from './handler-code.js';
import { type LogGroupSettings, verifierLogGroup } from './log-groups.js';
import { METRICS_NAMESPACE } from './metrics.js';
import type { LogLevel } from './settings.js';

/**
 * NodejsFunction's bundling options, from the one definition in lib/bundling.ts (which the
 * benchmark builds from too): one minified, tree-shaken ESM file for Node 24, AWS SDK bundled,
 * always the local esbuild (never Docker).
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: LAMBDA_BUNDLE.target,
  minify: LAMBDA_BUNDLE.minify,
  sourceMap: LAMBDA_BUNDLE.sourcemap,
  externalModules: [...LAMBDA_BUNDLE.external],
  mainFields: [...LAMBDA_BUNDLE.mainFields],
  esbuildArgs: cdkEsbuildArgs(),
  banner: LAMBDA_BUNDLE.banner,
  forceDockerBundling: false,
};

export interface VerifierFunctionProps {
  /** The prebuilt bundle or the TypeScript handler (lib/handler-code.ts). The export is always `handler`. */
  readonly code: HandlerCode;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logs: LogGroupSettings;
  readonly logLevel: LogLevel;
  readonly serviceName: string;
  /**
   * Reserved concurrency.
   * @default none (the account's unreserved pool)
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Environment beyond the Powertools settings every function gets.
   * @default none
   */
  readonly environment?: Record<string, string>;
  /**
   * Lambda's own retries of an asynchronous invocation before the event goes to the DLQ (0–2).
   * @default 1
   */
  readonly retryAttempts?: number;
  /**
   * How long Lambda keeps an asynchronous event before sending it to the DLQ.
   * @default 1 hour
   */
  readonly maxEventAge?: Duration;
  /**
   * VPC to run in.
   * @default none
   */
  readonly vpc?: IVpc;
  /**
   * Subnets of `vpc`.
   * @default the VPC's private subnets
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups in `vpc`.
   * @default one created by CDK
   */
  readonly securityGroups?: readonly ISecurityGroup[];
}

/**
 * The one place the function defaults live: Node 24 on arm64, ESM bundle, a log group with
 * retention, X-Ray, Powertools settings, an explicit role without managed policies, and a
 * dead-letter queue as the asynchronous on-failure destination.
 */
export class VerifierFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  /**
   * The statements that cannot name a resource because their API has no resource-level
   * permissions, and nothing else: the one policy cdk-nag's AwsSolutions-IAM5[Resource::*] is
   * acknowledged on, so a wildcard anywhere else (the role's default policy) fails synthesis.
   */
  readonly unscopedPolicy: Policy;
  readonly logGroup: LogGroup;
  readonly deadLetterQueue: DeadLetterQueue;

  static all(scope: Construct): VerifierFunction[] {
    return scope.node
      .findAll()
      .filter((child): child is VerifierFunction => child instanceof VerifierFunction);
  }

  constructor(scope: Construct, id: string, props: VerifierFunctionProps) {
    super(scope, id);

    this.logGroup = verifierLogGroup(this, 'Logs', props.logs);
    this.deadLetterQueue = new DeadLetterQueue(
      this,
      'FailedInvocations',
      `the ${id} function's async invocations`,
    );

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    // Writing its own logs, on its own log group only (instead of AWSLambdaBasicExecutionRole on every log group).
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    // X-Ray: PutTraceSegments/PutTelemetryRecords support no resource-level permissions. Tracing is
    // switched on below rather than with the `tracing` prop, which would put this statement into
    // the role's default policy, among the scoped ones.
    this.unscopedPolicy = new Policy(this, 'UnscopedActions', {
      roles: [this.role],
      statements: [
        new PolicyStatement({
          sid: 'WriteTraces',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(this.unscopedPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'This policy holds only actions whose API supports no resource-level permissions, so IAM authorizes ' +
        'them on * alone: X-Ray PutTraceSegments/PutTelemetryRecords, on the verify role the six ELBv2 ' +
        'Describe* calls the ALB router makes, and on the traffic role cloudwatch:GetMetricData (read-only). ' +
        'Every other statement of the role is scoped to its resources.',
    });

    const common = {
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      onFailure: new SqsDestination(this.deadLetterQueue.queue),
      retryAttempts: props.retryAttempts ?? 1,
      maxEventAge: props.maxEventAge ?? Duration.hours(1),
      environment: {
        [POWERTOOLS_SERVICE_NAME]: props.serviceName,
        [POWERTOOLS_METRICS_NAMESPACE]: METRICS_NAMESPACE,
        [POWERTOOLS_LOG_LEVEL]: props.logLevel,
        ...props.environment,
      },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups ? [...props.securityGroups] : undefined,
    };
    const { code } = props;
    // The same file either way: NodejsFunction names its ESM output index.mjs, as the build does.
    this.function =
      code.kind === 'prebuilt'
        ? new LambdaFunction(this, 'Function', {
            ...common,
            code: Code.fromAsset(code.directory),
            handler: `${LAMBDA_BUNDLE.outputFile.replace(/\.mjs$/, '')}.handler`,
          })
        : new NodejsFunction(this, 'Function', {
            ...common,
            entry: code.entry,
            handler: 'handler',
            projectRoot: PROJECT_ROOT,
            depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
            bundling: BUNDLING,
          });

    (this.function.node.defaultChild as CfnFunction).tracingConfig = { mode: Tracing.ACTIVE };
    // Traces from the first invocation: the function is created once its X-Ray grant exists.
    this.function.node.addDependency(this.unscopedPolicy);
    if (props.vpc) {
      // A function in a VPC creates and deletes its ENIs: CDK adds this only to roles it creates itself.
      this.role.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]`,
        reason:
          'Only with the vpc prop (private cluster endpoint): Lambda needs ec2:CreateNetworkInterface, ' +
          'DescribeNetworkInterfaces, DeleteNetworkInterface and the IP assignment calls to attach the function ' +
          'to the VPC; the AWS-managed AWSLambdaVPCAccessExecutionRole is exactly that set, kept current by AWS.',
      });
    }
  }

  /** Statement added to this function's role (kept here so every addition reads the same). */
  addToRolePolicy(statement: PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  /**
   * A statement on `*` for an API that has no resource-level permissions (check the service's
   * authorization reference first): it goes into the one policy whose wildcard is acknowledged.
   */
  addUnscopedStatement(statement: PolicyStatement): void {
    this.unscopedPolicy.addStatements(statement);
  }

  get functionArn(): string {
    return this.function.functionArn;
  }
}
