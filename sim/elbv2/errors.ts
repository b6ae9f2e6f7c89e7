/**
 * An ELBv2 error as it goes on the wire: the awsQuery `Code` (which the SDK maps to its
 * `…Exception` class, or surfaces as `error.name` when it has no class for it, as for
 * `Throttling` and `AccessDenied`), the HTTP status and the fault side.
 *
 * Codes and statuses are those of the ELBv2 API reference ("Errors" of each action) and of the
 * SDK model's `awsQueryError` traits: `LoadBalancerNotFound`, `ListenerNotFound`, `RuleNotFound`,
 * `TargetGroupNotFound`, `InvalidTarget`, … all 400; `AccessDenied` 403; `Throttling` 400.
 */
export class SimError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = 'SimError';
  }

  static validation(message: string): SimError {
    return new SimError('ValidationError', message);
  }

  static loadBalancersNotFound(ids: readonly string[]): SimError {
    return new SimError('LoadBalancerNotFound', `Load balancers '[${ids.join(', ')}]' not found`);
  }

  static listenersNotFound(ids: readonly string[]): SimError {
    return new SimError('ListenerNotFound', `Listeners '[${ids.join(', ')}]' not found`);
  }

  static rulesNotFound(ids: readonly string[]): SimError {
    return new SimError('RuleNotFound', `Rules '[${ids.join(', ')}]' not found`);
  }

  static targetGroupsNotFound(ids: readonly string[]): SimError {
    return new SimError('TargetGroupNotFound', `Target groups '[${ids.join(', ')}]' not found`);
  }

  static throttling(): SimError {
    return new SimError('Throttling', 'Rate exceeded');
  }

  static accessDenied(principalArn: string, action: string): SimError {
    const permission = `elasticloadbalancing:${action}`;
    return new SimError(
      'AccessDenied',
      `User: ${principalArn} is not authorized to perform: ${permission} because no identity-based policy allows the ${permission} action`,
      403,
    );
  }

  static invalidAction(action: string): SimError {
    return new SimError('InvalidAction', `Could not find operation ${action} for version 2015-12-01`);
  }

  /** The shape of AWS's own constraint messages: `1 validation error detected: Value '…' at 'member' failed to satisfy constraint: …`. */
  static constraint(value: string, member: string, constraint: string): SimError {
    return SimError.validation(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
    );
  }
}
