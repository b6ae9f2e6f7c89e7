import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface NagAcknowledgement {
  /** Construct path the acknowledgement is attached to (it covers that construct's subtree). */
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every rule acknowledged with `Validations.of(...).acknowledge` under `scope`: for reviews and tests. */
export function nagAcknowledgements(scope: IConstruct): NagAcknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}
