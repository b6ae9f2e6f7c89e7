import { SimError } from './errors.js';

/**
 * A view over awsQuery form parameters: scalars by name, lists as `Name.member.N`, structures as
 * `Name.Member`, nested as deep as the request goes (`Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight`).
 */
export class QueryParams {
  constructor(private readonly values: ReadonlyMap<string, string>) {}

  static fromForm(body: string): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(body)));
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  require(name: string): string {
    const value = this.values.get(name);
    if (value === undefined || value === '') {
      throw SimError.validation(
        `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  }

  int(name: string): number | undefined {
    const raw = this.values.get(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value))
      throw SimError.validation(`Value '${raw}' at '${lowerFirst(name)}' is not an integer`);
    return value;
  }

  bool(name: string): boolean | undefined {
    const raw = this.values.get(name);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') {
      throw SimError.validation(`Value '${raw}' at '${lowerFirst(name)}' is not a boolean`);
    }
    return raw === 'true';
  }

  /** True when the request named the member at all (an empty list is sent as `Name=`). */
  has(name: string): boolean {
    if (this.values.has(name)) return true;
    const prefix = `${name}.`;
    for (const key of this.values.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** `Name.member.1`, `Name.member.2`, … in index order. */
  list(name: string): string[] {
    return this.indexed(name).map(([index]) => this.values.get(`${name}.member.${index}`) ?? '');
  }

  /** `Name.member.N.*` as one view per member, in index order. */
  structs(name: string): QueryParams[] {
    return this.indexed(name).map(([index]) => this.child(`${name}.member.${index}`));
  }

  /** The members under `Name.` as their own view. */
  child(name: string): QueryParams {
    const prefix = `${name}.`;
    const sub = new Map<string, string>();
    for (const [key, value] of this.values)
      if (key.startsWith(prefix)) sub.set(key.slice(prefix.length), value);
    return new QueryParams(sub);
  }

  private indexed(name: string): Array<[number]> {
    const pattern = new RegExp(`^${escapeRegExp(name)}\\.member\\.(\\d+)(?:\\.|$)`);
    const indexes = new Set<number>();
    for (const key of this.values.keys()) {
      const match = pattern.exec(key);
      if (match?.[1]) indexes.add(Number(match[1]));
    }
    return [...indexes].sort((a, b) => a - b).map((index) => [index]);
  }
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function lowerFirst(value: string): string {
  return value.charAt(0).toLowerCase() + value.slice(1);
}
