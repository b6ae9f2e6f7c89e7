import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type AnySchemaObject, type ErrorObject, type Format } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { isJsonObject } from './merge-patch.js';
import type { KubeObject } from './naming.js';
import {
  type FieldError,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  fieldTypeInvalid,
  goValue,
} from './status.js';

/**
 * Custom resources validated the way the API server validates them against a CRD's
 * `openAPIV3Schema`, with ajv:
 *
 * - `x-kubernetes-int-or-string` becomes `type: [integer, string]` (as the API server converts it);
 *   formats int32/int64 are range checks, date-time is RFC 3339, any other format is accepted.
 * - Unknown fields: the API server prunes fields the structural schema does not declare (silently, or
 *   with a `Warning` header) unless the request says `?fieldValidation=Strict`, which rejects them with
 *   400 `strict decoding error: unknown field "status.aborted"`. The fake's default is Strict, because a
 *   misspelt field silently pruned (`{"status":{"aborted":true}}` aborts nothing) is exactly what a test
 *   should catch; `?fieldValidation=Warn|Ignore` or the sim option `fieldValidation` switch to pruning.
 *   Subtrees with `x-kubernetes-preserve-unknown-fields` keep theirs. `metadata` is not checked.
 * - `null` in a field that is not `nullable` is dropped, as the API server drops it.
 * - Not done: CEL rules (`x-kubernetes-validations`: the CRD's one is "selector is immutable"),
 *   list-type/map-type uniqueness, defaults, ObjectMeta validation beyond a required name.
 */

/** Argo Rollouts v1.9.1's Rollout CRD, kept in the repository with its source and licence (vendor/…/README.md). */
export const ROLLOUT_CRD_PATH = resolve(
  import.meta.dirname,
  '../../vendor/argo-rollouts-v1.9.1/rollout-crd.yaml',
);

type Schema = Record<string, unknown>;

export interface CustomResourceType {
  group: string;
  kind: string;
  listKind: string;
  plural: string;
  /** Served versions. */
  versions: string[];
  /** `subresources.status` on the version: writes to the main resource cannot change `status`, and create drops it. */
  hasStatusSubresource(version: string): boolean;
  /** The object without undeclared fields and non-nullable nulls, and the paths of the undeclared fields. */
  prune(object: KubeObject, version: string): { object: KubeObject; unknownFields: string[] };
  /** Schema violations, as the API server's field errors. Empty when valid. */
  validate(object: KubeObject, version: string): FieldError[];
}

export interface LoadedCrds {
  types: CustomResourceType[];
  /** Reading, parsing and compiling the file; paid once per process and file. */
  compileMillis: number;
}

const loaded = new Map<string, LoadedCrds>();

/** Every CustomResourceDefinition in a YAML file, compiled once per process (the Rollout schema is ~200 KB). */
export function loadCrds(path: string): LoadedCrds {
  const cached = loaded.get(path);
  if (cached) return cached;
  const started = performance.now();
  const documents = parseAllDocuments(readFileSync(path, 'utf8')).map(
    (document) => document.toJS() as unknown,
  );
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, formats: FORMATS });
  const types = documents.filter(isCrd).map((crd) => compileCrd(ajv, crd));
  const result = { types, compileMillis: Math.round(performance.now() - started) };
  loaded.set(path, result);
  return result;
}

/** The Argo Rollouts v1.9.1 Rollout type. */
export function rolloutCrd(): CustomResourceType {
  const rollout = loadCrds(ROLLOUT_CRD_PATH).types.find((type) => type.kind === 'Rollout');
  if (!rollout) throw new Error(`no Rollout CustomResourceDefinition in ${ROLLOUT_CRD_PATH}`);
  return rollout;
}

interface CrdDocument {
  kind: 'CustomResourceDefinition';
  spec: {
    group: string;
    names: { kind: string; listKind?: string; plural: string };
    versions: Array<{
      name: string;
      served?: boolean;
      schema?: { openAPIV3Schema?: Schema };
      subresources?: { status?: unknown };
    }>;
  };
}

const isCrd = (document: unknown): document is CrdDocument =>
  isJsonObject(document) && document.kind === 'CustomResourceDefinition' && isJsonObject(document.spec);

function compileCrd(ajv: Ajv, crd: CrdDocument): CustomResourceType {
  const { group, names } = crd.spec;
  const versions = new Map(
    crd.spec.versions
      .filter((version) => version.served !== false)
      .map((version) => {
        const schema = version.schema?.openAPIV3Schema ?? {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
        };
        return [
          version.name,
          {
            schema,
            validator: ajv.compile(forAjv(schema) as AnySchemaObject),
            status: version.subresources?.status !== undefined,
          },
        ] as const;
      }),
  );
  const versionOf = (name: string) => {
    const version = versions.get(name);
    if (!version) throw new Error(`${names.plural}.${group} does not serve version ${name}`);
    return version;
  };
  return {
    group,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    versions: [...versions.keys()],
    hasStatusSubresource: (version) => versionOf(version).status,
    prune(object, version) {
      const unknownFields: string[] = [];
      const { metadata, ...rest } = object;
      const pruned = pruneNode(rest, versionOf(version).schema, '', unknownFields) as Record<string, unknown>;
      return { object: { ...pruned, metadata: structuredClone(metadata) } as KubeObject, unknownFields };
    },
    validate(object, version) {
      const validator = versionOf(version).validator;
      if (validator(object)) return [];
      return fieldErrors(validator.errors ?? [], object);
    },
  };
}

/** The CRD schema as ajv should see it: int-or-string as a type union (its anyOf of bare types dropped). */
function forAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forAjv);
  if (!isJsonObject(node)) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'description') continue;
    // `properties` and `additionalProperties` maps are keyed by field name, not keyword: recurse into values only.
    out[key] =
      key === 'properties' && isJsonObject(value)
        ? Object.fromEntries(Object.entries(value).map(([name, child]) => [name, forAjv(child)]))
        : forAjv(value);
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    out.type = ['integer', 'string'];
    const anyOf = out.anyOf;
    if (
      Array.isArray(anyOf) &&
      anyOf.every((branch) => isJsonObject(branch) && Object.keys(branch).join() === 'type')
    ) {
      delete out.anyOf;
    }
  }
  return out;
}

const FORMATS: Record<string, Format> = {
  int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
  int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
  // RFC 3339 date-time with a zone, as Go's strfmt checks it.
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  // Formats the API server does not check (or that this CRD does not use) are accepted as they are.
  byte: true,
  'int-or-string': true,
  uri: true,
  uuid: true,
  duration: true,
  double: true,
  float: true,
  password: true,
  email: true,
  hostname: true,
  ipv4: true,
  ipv6: true,
  cidr: true,
  mac: true,
  date: true,
};

function pruneNode(
  value: unknown,
  schema: Schema | undefined,
  path: string,
  unknownFields: string[],
): unknown {
  if (schema === undefined) return value;
  if (Array.isArray(value)) {
    const items = isJsonObject(schema.items) ? schema.items : undefined;
    return value.map((item, index) => pruneNode(item, items, `${path}[${index}]`, unknownFields));
  }
  const objectLike =
    schema.type === 'object' || isJsonObject(schema.properties) || schema.additionalProperties !== undefined;
  // A value of the wrong type is left for validation to name ("must be of type string: object").
  if (!isJsonObject(value) || !objectLike) return value;
  const properties = isJsonObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || additional === true;
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value)) {
    const childSchema = properties[name] ?? (isJsonObject(additional) ? additional : undefined);
    const childPath = path ? `${path}.${name}` : name;
    if (childSchema === undefined) {
      if (preserve) out[name] = child;
      else unknownFields.push(childPath);
    } else if (child !== null || childSchema.nullable === true) {
      out[name] = pruneNode(child, childSchema, childPath, unknownFields);
    }
  }
  return out;
}

/** `/spec/strategy/canary/steps/0/setWeight` → `spec.strategy.canary.steps[0].setWeight`. */
function fieldPath(pointer: string, root: unknown): string {
  let path = '';
  let current = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      path += `[${segment}]`;
      current = current[Number(segment)];
    } else {
      path += path ? `.${segment}` : segment;
      current = isJsonObject(current) ? current[segment] : undefined;
    }
  }
  return path;
}

/** The OpenAPI type name of a value, as the API server names it in "must be of type integer: \"string\"". */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function fieldErrors(errors: ErrorObject[], root: unknown): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const wrongType = new Set(
    errors.filter((error) => error.keyword === 'type').map((error) => error.instancePath),
  );
  for (const error of errors) {
    // anyOf/oneOf report each failing branch and then themselves: keep only the summary.
    if (/\/(anyOf|oneOf)\/\d+\//.test(error.schemaPath)) continue;
    // A value of the wrong type fails its format too; the type error says it.
    if (error.keyword === 'format' && wrongType.has(error.instancePath)) continue;
    const fieldError = toFieldError(error, root);
    const key = `${fieldError.field}\n${fieldError.body}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(fieldError);
    }
  }
  return out;
}

function toFieldError(error: ErrorObject, root: unknown): FieldError {
  const field = fieldPath(error.instancePath, root);
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  const inBody = `${field} in body`;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return fieldRequired(field ? `${field}.${missing}` : missing);
    }
    case 'type':
      return fieldTypeInvalid(
        field,
        typeName(data),
        `${inBody} must be of type ${params.type}: "${typeName(data)}"`,
      );
    case 'enum':
      return fieldNotSupported(field, data, params.allowedValues as unknown[]);
    case 'format':
      return typeof data === 'string'
        ? fieldTypeInvalid(field, data, `${inBody} must be of type ${params.format}: ${goValue(data)}`)
        : fieldInvalid(field, data, `${inBody} must be of type ${params.format}: ${goValue(data)}`);
    case 'pattern':
      return fieldInvalid(field, data, `${inBody} should match '${params.pattern}'`);
    case 'minimum':
      return fieldInvalid(field, data, `${inBody} should be greater than or equal to ${params.limit}`);
    case 'exclusiveMinimum':
      return fieldInvalid(field, data, `${inBody} should be greater than ${params.limit}`);
    case 'maximum':
      return fieldInvalid(field, data, `${inBody} should be less than or equal to ${params.limit}`);
    case 'exclusiveMaximum':
      return fieldInvalid(field, data, `${inBody} should be less than ${params.limit}`);
    case 'minLength':
      return fieldInvalid(field, data, `${inBody} should be at least ${params.limit} chars long`);
    case 'maxLength':
      return {
        type: 'FieldValueTooLong',
        field,
        body: `Too long: may not be more than ${params.limit} bytes`,
      };
    case 'minItems':
      return fieldInvalid(field, data, `${inBody} should have at least ${params.limit} items`);
    case 'maxItems':
      return {
        type: 'FieldValueTooMany',
        field,
        body: `Too many: ${Array.isArray(data) ? data.length : '?'}: must have at most ${params.limit} items`,
      };
    default:
      return fieldInvalid(field, data, `${inBody} ${error.message ?? `fails ${error.keyword}`}`);
  }
}
