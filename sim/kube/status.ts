/**
 * `kind: Status` failures as the API server writes them: the constructors of
 * k8s.io/apimachinery/pkg/api/errors, and the field errors of k8s.io/apimachinery/pkg/util/validation/field.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A failure to answer with; thrown by the store, caught by the server. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
}

/** `rollouts` + `argoproj.io` → `rollouts.argoproj.io`; core resources have no group: `events`. */
export interface GroupResource {
  group: string;
  resource: string;
}
export const groupResourceString = ({ group, resource }: GroupResource) =>
  group ? `${resource}.${group}` : resource;

/** `Rollout` + `argoproj.io` → `Rollout.argoproj.io`. */
export interface GroupKind {
  group: string;
  kind: string;
}
const groupKindString = ({ group, kind }: GroupKind) => (group ? `${kind}.${group}` : kind);

/** Go's `omitempty`: empty strings, zeros and empty arrays are not written. */
function details(fields: StatusDetails): StatusDetails {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, value]) =>
        value !== undefined && value !== '' && value !== 0 && !(Array.isArray(value) && value.length === 0),
    ),
  );
}

function failure(code: number, reason: string, message: string, statusDetails?: StatusDetails): StatusError {
  // The API server's field order: kind, apiVersion, metadata, status, message, reason, details, code.
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason ? { reason } : {}),
    ...(statusDetails ? { details: details(statusDetails) } : {}),
    code,
  });
}

export const notFound = (resource: GroupResource, name: string) =>
  failure(404, 'NotFound', `${groupResourceString(resource)} "${name}" not found`, {
    name,
    group: resource.group,
    kind: resource.resource,
  });

/** What the API server says for a path it has no handler for (or a resource type it does not serve). */
/**
 * A path no API is served at (a group, version or resource the server does not know): the real
 * API server answers from its not-found handler, `404 page not found` as text/plain, not a Status
 * (seen in the lab for networking.istio.io/v1 on a cluster whose Istio CRDs serve v1alpha3 only).
 */
export class PathNotFoundError extends StatusError {
  readonly plainText = '404 page not found\n';
}

export const pathNotFound = () =>
  new PathNotFoundError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server could not find the requested resource',
    reason: 'NotFound',
    details: {},
    code: 404,
  });

export const alreadyExists = (resource: GroupResource, name: string) =>
  failure(409, 'AlreadyExists', `${groupResourceString(resource)} "${name}" already exists`, {
    name,
    group: resource.group,
    kind: resource.resource,
  });

export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export const conflict = (resource: GroupResource, name: string, cause = OPTIMISTIC_LOCK_MESSAGE) =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResourceString(resource)} "${name}": ${cause}`,
    {
      name,
      group: resource.group,
      kind: resource.resource,
    },
  );

/** A field error: `type` is the cause `reason` (FieldValueInvalid, …), `body` what follows the field in the message. */
export interface FieldError {
  type:
    | 'FieldValueInvalid'
    | 'FieldValueTypeInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany';
  field: string;
  body: string;
}

/** How field errors print a bad value: %v for numbers and booleans, %q for strings, JSON for the rest. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export const fieldInvalid = (field: string, value: unknown, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  body: `Invalid value: ${goValue(value)}: ${detail}`,
});
export const fieldTypeInvalid = (field: string, value: unknown, detail: string): FieldError => ({
  type: 'FieldValueTypeInvalid',
  field,
  body: `Invalid value: ${goValue(value)}: ${detail}`,
});
export const fieldRequired = (field: string, detail = ''): FieldError => ({
  type: 'FieldValueRequired',
  field,
  body: detail ? `Required value: ${detail}` : 'Required value',
});
export const fieldNotSupported = (field: string, value: unknown, supported: unknown[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  body: `Unsupported value: ${goValue(value)}: supported values: ${supported
    .map((allowed) =>
      typeof allowed === 'string' ? JSON.stringify(allowed) : JSON.stringify(JSON.stringify(allowed)),
    )
    .join(', ')}`,
});

/** 422: `Rollout.argoproj.io "checkout" is invalid: status.abort: Invalid value: …` with one cause per field error. */
export function invalid(kind: GroupKind, name: string, errors: FieldError[]): StatusError {
  const lines = errors.map((error) => `${error.field}: ${error.body}`);
  const summary = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  return failure(422, 'Invalid', `${groupKindString(kind)} "${name}" is invalid: ${summary}`, {
    name,
    group: kind.group,
    kind: kind.kind,
    causes: errors.map((error) => ({ reason: error.type, message: error.body, field: error.field })),
  });
}

/** What the authorizer was asked, as in k8s.io/apiserver's authorizer.Attributes. */
export interface RequestAttributes {
  user: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** 403 exactly as the API server words an RBAC denial. */
export function forbidden(attributes: RequestAttributes): StatusError {
  const { user, verb, group, resource, subresource, namespace, name } = attributes;
  const target = subresource ? `${resource}/${subresource}` : resource;
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const reason = `User "${user}" cannot ${verb} resource "${target}" in API group "${group}" ${scope}`;
  const qualified = groupResourceString({ group, resource });
  const message = name
    ? `${qualified} "${name}" is forbidden: ${reason}`
    : `${qualified} is forbidden: ${reason}`;
  return failure(403, 'Forbidden', message, { name, group, kind: resource });
}

export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

export const methodNotSupported = (resource: GroupResource, action: string) =>
  failure(
    405,
    'MethodNotAllowed',
    `${action} is not supported on resources of kind "${groupResourceString(resource)}"`,
    {
      group: resource.group,
      kind: resource.resource,
    },
  );

export const unsupportedMediaType = (accepted: string[]) =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );

export const requestEntityTooLarge = (limit: number) =>
  failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  failure(429, 'TooManyRequests', message, { retryAfterSeconds });

export const internalError = (cause: string) =>
  failure(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });

export const serviceUnavailable = (message: string, retryAfterSeconds?: number) =>
  failure(503, 'ServiceUnavailable', message, retryAfterSeconds ? { retryAfterSeconds } : undefined);

export const gatewayTimeout = (message: string, retryAfterSeconds?: number) =>
  failure(504, 'Timeout', `Timeout: ${message}`, retryAfterSeconds ? { retryAfterSeconds } : undefined);

/** Any other code, with the reason the API server gives it (metav1.StatusReason*), or none. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};
export const genericFailure = (code: number, message: string) => failure(code, REASONS[code] ?? '', message);
