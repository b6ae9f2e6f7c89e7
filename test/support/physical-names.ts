/**
 * The physical names a CloudFormation template gives its resources (bus, alarm, table, queue,
 * topic, log group, role, function, secret, rule, dashboard, key alias): what two deployments in
 * one account and region must never share. Shared by the in-repository conventions test and the
 * packed-tarball test, which reads templates from a consumer's cloud assembly.
 */

/** Property holding the physical name, per resource type. */
export const PHYSICAL_NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::CompositeAlarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::ApiGateway::RestApi': 'Name',
};

export interface PhysicalName {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** The name as the template writes it: a string, or the JSON of an intrinsic function. */
  readonly name: string;
}

interface Template {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export function physicalNames(stack: string, template: Template): PhysicalName[] {
  return Object.entries(template.Resources ?? {}).flatMap(([logicalId, resource]) => {
    const property = PHYSICAL_NAME_PROPERTIES[resource.Type];
    const value = property ? resource.Properties?.[property] : undefined;
    if (value === undefined) return [];
    return [
      {
        stack,
        logicalId,
        type: resource.Type,
        name: typeof value === 'string' ? value : JSON.stringify(value),
      },
    ];
  });
}

/** Names given to more than one resource of a type, with who has them: empty when all are unique. */
export function duplicatePhysicalNames(names: readonly PhysicalName[]): string[] {
  const byName = new Map<string, PhysicalName[]>();
  for (const entry of names) {
    const key = `${entry.type} ${entry.name}`;
    byName.set(key, [...(byName.get(key) ?? []), entry]);
  }
  return [...byName]
    .filter(([, holders]) => holders.length > 1)
    .map(
      ([key, holders]) =>
        `${key}: ${holders.map((holder) => `${holder.stack}/${holder.logicalId}`).join(', ')}`,
    );
}
