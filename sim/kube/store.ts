import { randomInt, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { CustomResourceType } from './crd-validation.js';
import { applyMergePatch, isJsonObject } from './merge-patch.js';
import {
  guessKindOf,
  isBuiltInGroup,
  joinApiVersion,
  type KubeObject,
  pluralOf,
  splitApiVersion,
} from './naming.js';
import { type FieldRequirement, matchesFields, matchesLabels, type Requirement } from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  fieldRequired,
  type GroupResource,
  invalid,
  notFound,
  pathNotFound,
} from './status.js';

/**
 * The objects of the fake API server and what the API server's registry does on each write:
 * server-set metadata, one global resourceVersion counter, `metadata.generation`, optimistic
 * concurrency, the status subresource of custom resources, CRD schema validation.
 */

/** Where a request points: a collection (no name) or one object. */
export interface Target {
  group: string;
  version: string;
  plural: string;
  /** Absent: every namespace (list only). */
  namespace?: string;
  name?: string;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteResult {
  object: KubeObject;
  /** `Warning` header values (unknown fields pruned under fieldValidation=Warn). */
  warnings: string[];
}

export interface KubeList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: KubeObject[];
}

const keyOf = (group: string, plural: string, namespace: string, name: string) =>
  `${group}\u0000${plural}\u0000${namespace}\u0000${name}`;

const rfc3339 = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/** names.SimpleNameGenerator: five characters from a vowel-free alphabet. */
const generatedSuffix = () =>
  Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[randomInt(27)]).join('');

interface Entry {
  group: string;
  plural: string;
  object: KubeObject;
}

export class ObjectStore {
  private readonly entries = new Map<string, Entry>();
  private revision = 1000;

  constructor(
    private readonly crds: CustomResourceType[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The newest resourceVersion handed out (what a list reports). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  private nextResourceVersion(): string {
    this.revision += 1;
    return String(this.revision);
  }

  /** The CRD serving this group/resource; throws 404 for a version it does not serve. */
  private crdOf(target: { group: string; plural: string; version?: string }): CustomResourceType | undefined {
    const crd = this.crds.find((type) => type.group === target.group && type.plural === target.plural);
    if (crd && target.version !== undefined && !crd.versions.includes(target.version)) throw pathNotFound();
    return crd;
  }

  hasStatusSubresource(target: Target): boolean {
    return this.crdOf(target)?.hasStatusSubresource(target.version) ?? false;
  }

  private named(target: Target): { namespace: string; name: string; resource: GroupResource } {
    return {
      namespace: target.namespace ?? '',
      name: target.name ?? '',
      resource: { group: target.group, resource: target.plural },
    };
  }

  get(target: Target): KubeObject {
    const { namespace, name, resource } = this.named(target);
    this.crdOf(target); // 404 for a version the CRD does not serve
    const entry = this.entries.get(keyOf(target.group, target.plural, namespace, name));
    if (!entry) throw notFound(resource, name);
    return this.asServed(entry.object, target.version);
  }

  list(target: Target, labels: Requirement[] = [], fields: FieldRequirement[] = []): KubeList {
    const crd = this.crdOf(target);
    const items = this.select(target.group, target.plural, target.namespace)
      .filter((object) => matchesLabels(object.metadata.labels, labels) && matchesFields(object, fields))
      .sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        ),
      )
      .map((object) => this.asServed(object, target.version));
    const kind = crd?.kind ?? this.select(target.group, target.plural)[0]?.kind ?? guessKindOf(target.plural);
    if (isBuiltInGroup(target.group)) {
      for (const item of items) {
        delete (item as Partial<KubeObject>).apiVersion;
        delete (item as Partial<KubeObject>).kind;
      }
    }
    return {
      apiVersion: joinApiVersion(target.group, target.version),
      kind: crd?.listKind ?? `${kind}List`,
      metadata: { resourceVersion: this.resourceVersion },
      items,
    };
  }

  create(target: Target, body: unknown, fieldValidation: FieldValidation): WriteResult {
    const crd = this.crdOf(target);
    const apiVersion = joinApiVersion(target.group, target.version);
    if (!isJsonObject(body)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (typeof body.kind !== 'string' || body.kind === '') {
      throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
      );
    }
    let object = { ...structuredClone(body), apiVersion } as KubeObject;
    object.metadata = isJsonObject(object.metadata) ? object.metadata : {};
    const namespace = target.namespace ?? '';
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const warnings: string[] = [];
    if (crd) {
      object = this.decode(crd, object, target.version, fieldValidation, warnings);
      // The custom resource strategy: "create cannot set status" when /status is a subresource.
      if (crd.hasStatusSubresource(target.version)) delete object.status;
    }
    const metadata = object.metadata;
    if (!metadata.name) {
      if (!metadata.generateName) {
        throw invalid({ group: target.group, kind: object.kind }, '', [
          fieldRequired('metadata.name', 'name or generateName is required'),
        ]);
      }
      metadata.name = `${metadata.generateName}${generatedSuffix()}`;
    }
    metadata.namespace = namespace;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = rfc3339(this.now());
    delete metadata.resourceVersion;
    delete metadata.deletionTimestamp;
    if (crd || 'spec' in object) metadata.generation = 1;
    else delete metadata.generation;
    this.validate(crd, object, target.version);
    const key = keyOf(target.group, target.plural, namespace, metadata.name);
    if (this.entries.has(key))
      throw alreadyExists({ group: target.group, resource: target.plural }, metadata.name);
    metadata.resourceVersion = this.nextResourceVersion();
    this.entries.set(key, { group: target.group, plural: target.plural, object });
    return { object: structuredClone(object), warnings };
  }

  /** A JSON merge patch on the object, or on its status subresource (`subresource: 'status'`). */
  patch(
    target: Target,
    subresource: string | undefined,
    patch: unknown,
    fieldValidation: FieldValidation,
  ): WriteResult {
    const { namespace, name, resource } = this.named(target);
    const crd = this.crdOf(target);
    const statusSubresource = crd?.hasStatusSubresource(target.version) ?? false;
    const key = keyOf(target.group, target.plural, namespace, name);
    const entry = this.entries.get(key);
    if (!entry) throw notFound(resource, name);
    const existing = entry.object;

    const merged = applyMergePatch(existing, patch);
    if (!isJsonObject(merged))
      throw badRequest(`the patched object is not a JSON object: ${JSON.stringify(merged)}`);
    let patched = merged as KubeObject;
    patched.metadata = isJsonObject(patched.metadata) ? patched.metadata : {};
    if (patched.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (patched.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const warnings: string[] = [];
    if (crd) patched = this.decode(crd, patched, target.version, fieldValidation, warnings);

    // Optimistic concurrency: a resourceVersion in the patch must be the stored one.
    const precondition = patched.metadata.resourceVersion;
    if (precondition !== undefined && String(precondition) !== existing.metadata.resourceVersion) {
      throw conflict(resource, name);
    }

    let next: KubeObject;
    if (subresource === 'status') {
      // statusStrategy.PrepareForUpdate: the stored object with only `status` taken from the request.
      next = structuredClone(existing);
      if ('status' in patched) next.status = patched.status;
      else delete next.status;
    } else {
      next = patched;
      if (statusSubresource) {
        if ('status' in existing) next.status = structuredClone(existing.status);
        else delete next.status;
      }
      next.apiVersion = existing.apiVersion;
      next.kind = existing.kind;
      // Server-managed metadata is not the client's to change.
      const metadata: Record<string, unknown> = next.metadata;
      for (const field of ['uid', 'creationTimestamp', 'generation', 'resourceVersion']) {
        if (existing.metadata[field] === undefined) delete metadata[field];
        else metadata[field] = existing.metadata[field];
      }
      const ignored = statusSubresource ? ['metadata', 'status'] : ['metadata'];
      const changed = (object: KubeObject) =>
        Object.fromEntries(Object.entries(object).filter(([field]) => !ignored.includes(field)));
      if (
        existing.metadata.generation !== undefined &&
        !isDeepStrictEqual(changed(existing), changed(next))
      ) {
        next.metadata.generation = existing.metadata.generation + 1;
      }
    }
    // Nothing changed: the API server skips the write and the resourceVersion stays.
    if (isDeepStrictEqual(next, existing))
      return { object: this.asServed(existing, target.version), warnings };
    this.validate(crd, next, target.version);
    next.metadata.resourceVersion = this.nextResourceVersion();
    entry.object = next;
    return { object: this.asServed(next, target.version), warnings };
  }

  delete(target: Target): KubeObject {
    const { namespace, name, resource } = this.named(target);
    this.crdOf(target); // 404 for a version the CRD does not serve
    const key = keyOf(target.group, target.plural, namespace, name);
    const entry = this.entries.get(key);
    if (!entry) throw notFound(resource, name);
    this.entries.delete(key);
    this.nextResourceVersion();
    return this.asServed(entry.object, target.version);
  }

  /**
   * Seed or replace an object as it is (status included), bypassing the write rules but not the CRD
   * schema (an invalid Rollout throws unless `validate: false`). Fills namespace (`default`), uid,
   * creationTimestamp and generation when missing, and always sets a fresh resourceVersion.
   */
  put(object: KubeObject, options: { plural?: string; validate?: boolean } = {}): KubeObject {
    const { group, version } = splitApiVersion(object.apiVersion);
    const plural =
      options.plural ??
      this.crds.find((type) => type.group === group && type.kind === object.kind)?.plural ??
      pluralOf(object.kind);
    const stored = structuredClone(object);
    const metadata = stored.metadata;
    if (!metadata?.name) throw new Error(`put: ${object.kind} without metadata.name`);
    metadata.namespace ??= 'default';
    metadata.uid ??= randomUUID();
    metadata.creationTimestamp ??= rfc3339(this.now());
    if (metadata.generation === undefined && 'spec' in stored) metadata.generation = 1;
    const crd = this.crdOf({ group, plural, version });
    if (crd && options.validate !== false) {
      const { unknownFields } = crd.prune(stored, version);
      const errors = crd.validate(stored, version);
      if (unknownFields.length > 0 || errors.length > 0) {
        const problems = [
          ...unknownFields.map((field) => `unknown field "${field}"`),
          ...errors.map((error) => `${error.field}: ${error.body}`),
        ];
        throw new Error(
          `put: ${object.kind} ${metadata.namespace}/${metadata.name} does not match its CRD:\n  ${problems.join('\n  ')}`,
        );
      }
    }
    metadata.resourceVersion = this.nextResourceVersion();
    this.entries.set(keyOf(group, plural, metadata.namespace, metadata.name), {
      group,
      plural,
      object: stored,
    });
    return structuredClone(stored);
  }

  /** One stored object (any version of its group), or undefined. */
  find(group: string, plural: string, namespace: string, name: string): KubeObject | undefined {
    const entry = this.entries.get(keyOf(group, plural, namespace, name));
    return entry ? structuredClone(entry.object) : undefined;
  }

  /** Stored objects of a resource (any group when `group` is undefined), oldest write first. */
  select(group: string | undefined, plural: string, namespace?: string): KubeObject[] {
    return [...this.entries.values()]
      .filter(
        (entry) =>
          entry.plural === plural &&
          (group === undefined || entry.group === group) &&
          (namespace === undefined || entry.object.metadata.namespace === namespace),
      )
      .map((entry) => structuredClone(entry.object))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  }

  clear(): void {
    this.entries.clear();
  }

  /** A copy as read through `version` (custom resources are stored in one version; no conversion needed here). */
  private asServed(object: KubeObject, version: string): KubeObject {
    const copy = structuredClone(object);
    copy.apiVersion = joinApiVersion(splitApiVersion(object.apiVersion).group, version);
    return copy;
  }

  /** Prune undeclared fields (and non-nullable nulls); under Strict, refuse them as the decoder does. */
  private decode(
    crd: CustomResourceType,
    object: KubeObject,
    version: string,
    fieldValidation: FieldValidation,
    warnings: string[],
  ): KubeObject {
    const { object: pruned, unknownFields } = crd.prune(object, version);
    if (unknownFields.length === 0 || fieldValidation === 'Ignore') return pruned;
    const unknown = unknownFields.map((field) => `unknown field "${field}"`);
    if (fieldValidation === 'Warn') {
      warnings.push(...unknown);
      return pruned;
    }
    throw badRequest(
      `${crd.kind} in version "${version}" cannot be handled as a ${crd.kind}: strict decoding error: ${unknown.join(', ')}`,
    );
  }

  private validate(crd: CustomResourceType | undefined, object: KubeObject, version: string): void {
    if (!crd) return;
    const errors = crd.validate(object, version);
    if (errors.length > 0)
      throw invalid({ group: crd.group, kind: crd.kind }, object.metadata.name ?? '', errors);
  }
}
