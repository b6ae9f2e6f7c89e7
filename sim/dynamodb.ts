import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { listenOnLoopback } from './loopback-server.js';
import { verifyJsonProtocolRequest } from './sigv4-verify.js';

/**
 * DynamoDB on 127.0.0.1, for the real `@aws-sdk/client-dynamodb` (awsJson1_0,
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`): PutItem, GetItem, UpdateItem and DeleteItem on
 * tables with a string partition key — what Powertools idempotency's DynamoDBPersistenceLayer
 * sends — and on tables with a string partition and sort key, plus Query on those (the verdict
 * history: `pk = :v` and optionally `begins_with(sk, :p)`, `sk = | < | <= | > | >= :v` or
 * `sk BETWEEN :a AND :b`; ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey,
 * ProjectionExpression of top-level names; items ordered by the sort key's UTF-8 bytes). Condition expressions are evaluated for the grammar it uses (attribute_exists,
 * attribute_not_exists, comparisons, AND, OR, NOT, parentheses, #names, :values), update
 * expressions for `SET path = operand, …` and `REMOVE path, …`. Like DynamoDB, it refuses
 * expression names or values that no expression uses, and answers a failed condition with
 * ConditionalCheckFailedException (with the old item under ReturnValuesOnConditionCheckFailure
 * ALL_OLD). TTL never deletes anything here, as it may not for days in the service.
 */

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] };
export type Item = Record<string, AttributeValue>;

export interface DynamoDbCall {
  operation: string;
  table?: string;
  status: number;
  /** Set when the request was signed by a known key. */
  accessKeyId?: string;
  /** `ConditionalCheckFailedException`, `ValidationException`, … */
  error?: string;
}

export interface DynamoDbSim {
  endpoint: string;
  readonly calls: readonly DynamoDbCall[];
  /** The items of a table (deep copies), in insertion order. */
  items(table: string): Item[];
  close(): Promise<void>;
}

export interface DynamoDbSimOptions {
  /** Table name → partition key attribute (a string key), or partition and sort key (both strings). */
  tables: Record<string, string | TableKeySchema>;
  region?: string;
  /** Access key → secret: requests must be SigV4-signed by one of them. Absent: not checked. */
  credentials?: Record<string, string>;
}

export interface TableKeySchema {
  partitionKey: string;
  sortKey: string;
}

interface SimTable {
  key: string;
  sortKey?: string;
  items: Map<string, Item>;
}

class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly status = 400,
  ) {
    super(message);
  }
}

const validation = (message: string) => new DynamoError('ValidationException', message);

export async function startDynamoDbSim(options: DynamoDbSimOptions): Promise<DynamoDbSim> {
  const tables = new Map<string, SimTable>(
    Object.entries(options.tables).map(([name, schema]) => [
      name,
      typeof schema === 'string'
        ? { key: schema, items: new Map<string, Item>() }
        : { key: schema.partitionKey, sortKey: schema.sortKey, items: new Map<string, Item>() },
    ]),
  );
  const calls: DynamoDbCall[] = [];

  const tableOf = (name: unknown) => {
    const table = typeof name === 'string' ? tables.get(name) : undefined;
    if (!table) throw new DynamoError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  };
  const keyOf = (table: SimTable, key: unknown): string => {
    const attributes = (key ?? {}) as Item;
    const names = Object.keys(attributes);
    const value = attributes[table.key];
    const sortValue = table.sortKey === undefined ? undefined : attributes[table.sortKey];
    const expected = table.sortKey === undefined ? 1 : 2;
    if (
      names.length !== expected ||
      !value ||
      !('S' in value) ||
      (table.sortKey !== undefined && !(sortValue && 'S' in sortValue))
    ) {
      throw validation('The provided key element does not match the schema');
    }
    return sortValue && 'S' in sortValue ? `${value.S}\u0000${sortValue.S}` : value.S;
  };
  const keyAttributesOf = (table: SimTable, item: Item): Item => ({
    [table.key]: item[table.key] as AttributeValue,
    ...(table.sortKey === undefined ? {} : { [table.sortKey]: item[table.sortKey] as AttributeValue }),
  });

  const operations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    GetItem(input) {
      const table = tableOf(input.TableName);
      const item = table.items.get(keyOf(table, input.Key));
      return item ? { Item: structuredClone(item) } : {};
    },
    PutItem(input) {
      const table = tableOf(input.TableName);
      const item = (input.Item ?? {}) as Item;
      const id = keyOf(table, keyAttributesOf(table, item));
      const existing = table.items.get(id);
      checkCondition(input, existing);
      table.items.set(id, structuredClone(item));
      return {};
    },
    UpdateItem(input) {
      const table = tableOf(input.TableName);
      const id = keyOf(table, input.Key);
      const existing = table.items.get(id);
      checkCondition(input, existing, input.UpdateExpression);
      const next: Item = structuredClone(existing ?? (input.Key as Item));
      const context = expressionContext(input, [input.ConditionExpression, input.UpdateExpression]);
      applyUpdate(String(input.UpdateExpression ?? ''), next, context);
      table.items.set(id, next);
      return {};
    },
    Query(input) {
      const table = tableOf(input.TableName);
      if (table.sortKey === undefined) throw validation('Query needs a table with a sort key here');
      if (input.FilterExpression !== undefined) throw validation('FilterExpression is not simulated');
      const context = expressionContext(input, [input.KeyConditionExpression, input.ProjectionExpression]);
      const condition = keyCondition(String(input.KeyConditionExpression ?? ''), table, context);
      const forward = input.ScanIndexForward !== false;
      const limit = typeof input.Limit === 'number' ? input.Limit : Number.POSITIVE_INFINITY;
      const sortOf = (item: Item) => (item[table.sortKey as string] as { S: string }).S;
      let matching = [...table.items.values()]
        .filter(condition)
        .sort((a, b) => Buffer.compare(Buffer.from(sortOf(a)), Buffer.from(sortOf(b))));
      if (!forward) matching.reverse();
      const start = input.ExclusiveStartKey as Item | undefined;
      if (start) {
        const after = sortOf(start);
        matching = matching.filter((item) => {
          const order = Buffer.compare(Buffer.from(sortOf(item)), Buffer.from(after));
          return forward ? order > 0 : order < 0;
        });
      }
      const page = matching.slice(0, limit);
      const projection =
        typeof input.ProjectionExpression === 'string'
          ? input.ProjectionExpression.split(',').map((name) => {
              const trimmed = name.trim();
              return trimmed.startsWith('#') ? (context.names[trimmed] ?? trimmed) : trimmed;
            })
          : undefined;
      const items = page.map((item) =>
        projection
          ? Object.fromEntries(Object.entries(item).filter(([name]) => projection.includes(name)))
          : structuredClone(item),
      );
      const last = page.at(-1);
      return {
        Items: structuredClone(items),
        Count: items.length,
        ScannedCount: items.length,
        ...(last && matching.length > page.length ? { LastEvaluatedKey: keyAttributesOf(table, last) } : {}),
      };
    },
    DeleteItem(input) {
      const table = tableOf(input.TableName);
      const id = keyOf(table, input.Key);
      checkCondition(input, table.items.get(id));
      table.items.delete(id);
      return {};
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('DynamoDB_20120810.')
      ? target.slice('DynamoDB_20120810.'.length)
      : target;
    const call: DynamoDbCall = { operation, status: 0 };
    calls.push(call);
    const send = (status: number, payload: unknown) => {
      call.status = status;
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID().replace(/-/g, '').toUpperCase(),
      });
      response.end(JSON.stringify(payload));
    };
    try {
      if (options.credentials) {
        const check = verifyJsonProtocolRequest(
          request,
          body,
          (key) => options.credentials?.[key],
          'dynamodb',
        );
        if (!check.ok) {
          throw new DynamoError(
            check.code === 'UnrecognizedClient' ? 'UnrecognizedClientException' : `${check.code}Exception`,
            check.message,
          );
        }
        call.accessKeyId = check.accessKeyId;
      }
      const run = operations[operation];
      if (request.method !== 'POST' || !run) {
        throw new DynamoError(
          'UnknownOperationException',
          `the DynamoDB simulator does not answer ${target}`,
        );
      }
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      call.table = typeof input.TableName === 'string' ? input.TableName : undefined;
      send(200, run(input));
    } catch (error) {
      const failure =
        error instanceof DynamoError
          ? error
          : new DynamoError(
              'InternalServerError',
              error instanceof Error ? error.message : String(error),
              {},
              500,
            );
      call.error = failure.type;
      send(failure.status, {
        __type: `com.amazonaws.dynamodb.v20120810#${failure.type}`,
        message: failure.message,
        ...failure.extra,
      });
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    items: (table) => [...(tables.get(table)?.items.values() ?? [])].map((item) => structuredClone(item)),
    close: listener.close,
  };
}

// ---- expressions --------------------------------------------------------------------------------

interface ExpressionContext {
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

/** Names and values, refused when one is not used by any of the expressions (DynamoDB does). */
function expressionContext(input: Record<string, unknown>, expressions: unknown[]): ExpressionContext {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
  const text = expressions.filter((expression) => typeof expression === 'string').join(' ');
  const used = new Set(text.match(/[#:][A-Za-z0-9_]+/g) ?? []);
  const unusedNames = Object.keys(names).filter((name) => !used.has(name));
  if (unusedNames.length > 0) {
    throw validation(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    );
  }
  const unusedValues = Object.keys(values).filter((name) => !used.has(name));
  if (unusedValues.length > 0) {
    throw validation(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    );
  }
  return { names, values };
}

function checkCondition(
  input: Record<string, unknown>,
  existing: Item | undefined,
  otherExpression?: unknown,
): void {
  const condition = input.ConditionExpression;
  const context = expressionContext(input, [condition, otherExpression]);
  if (typeof condition !== 'string') return;
  if (evaluateCondition(condition, existing ?? {}, context)) return;
  const returnOld = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing;
  throw new DynamoError(
    'ConditionalCheckFailedException',
    'The conditional request failed',
    returnOld ? { Item: structuredClone(existing) } : {},
  );
}

type Token = { kind: 'name' | 'value' | 'word' | 'op' | 'punct'; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>)|([(),]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(expression);
    if (!match)
      throw validation(
        `Invalid expression: Syntax error; token: "${expression.slice(at).trim().slice(0, 10)}"`,
      );
    at = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: 'name', text: match[1] });
    else if (match[2]) tokens.push({ kind: 'value', text: match[2] });
    else if (match[3]) tokens.push({ kind: 'word', text: match[3] });
    else if (match[4]) tokens.push({ kind: 'op', text: match[4] });
    else tokens.push({ kind: 'punct', text: match[5] ?? '' });
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly context: ExpressionContext,
  ) {}

  done(): boolean {
    return this.at >= this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  next(): Token {
    const token = this.tokens[this.at++];
    if (!token) throw validation('Invalid expression: unexpected end of expression');
    return token;
  }
  expect(text: string): void {
    const token = this.next();
    if (token.text !== text) throw validation(`Invalid expression: expected "${text}", got "${token.text}"`);
  }
  isWord(word: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text.toUpperCase() === word;
  }

  /** An attribute name: `#name` resolved, or a plain identifier. */
  path(): string {
    const token = this.next();
    if (token.kind === 'name') {
      const name = this.context.names[token.text];
      if (name === undefined) {
        throw validation(
          `Value provided in ExpressionAttributeNames unused in expressions: An expression attribute name used in the document path is not defined; attribute name: ${token.text}`,
        );
      }
      return name;
    }
    if (token.kind === 'word') return token.text;
    throw validation(`Invalid expression: expected an attribute name, got "${token.text}"`);
  }

  /** `:value` or a path, as a function of the item. */
  operand(): (item: Item) => AttributeValue | undefined {
    const token = this.peek();
    if (token?.kind === 'value') {
      this.next();
      const value = this.context.values[token.text];
      if (value === undefined) {
        throw validation(
          `An expression attribute value used in expression is not defined; attribute value: ${token.text}`,
        );
      }
      return () => value;
    }
    const name = this.path();
    return (item) => item[name];
  }
}

export function evaluateCondition(expression: string, item: Item, context: ExpressionContext): boolean {
  const parser = new Parser(tokenize(expression), context);
  const condition = parseOr(parser);
  if (!parser.done()) throw validation(`Invalid expression: unexpected "${parser.peek()?.text}"`);
  return condition(item);
}

type Predicate = (item: Item) => boolean;

function parseOr(parser: Parser): Predicate {
  const terms = [parseAnd(parser)];
  while (parser.isWord('OR')) {
    parser.next();
    terms.push(parseAnd(parser));
  }
  return (item) => terms.some((term) => term(item));
}

function parseAnd(parser: Parser): Predicate {
  const terms = [parseNot(parser)];
  while (parser.isWord('AND')) {
    parser.next();
    terms.push(parseNot(parser));
  }
  return (item) => terms.every((term) => term(item));
}

function parseNot(parser: Parser): Predicate {
  if (parser.isWord('NOT')) {
    parser.next();
    const inner = parseNot(parser);
    return (item) => !inner(item);
  }
  return parsePrimary(parser);
}

function parsePrimary(parser: Parser): Predicate {
  const token = parser.peek();
  if (token?.text === '(') {
    parser.next();
    const inner = parseOr(parser);
    parser.expect(')');
    return inner;
  }
  if (token?.kind === 'word' && /^attribute_(not_)?exists$/.test(token.text)) {
    parser.next();
    parser.expect('(');
    const name = parser.path();
    parser.expect(')');
    const exists = token.text === 'attribute_exists';
    return (item) => name in item === exists;
  }
  const left = parser.operand();
  const op = parser.next();
  if (op.kind !== 'op') throw validation(`Invalid expression: expected a comparator, got "${op.text}"`);
  const right = parser.operand();
  return (item) => compare(left(item), op.text, right(item));
}

function compare(a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return op === '<>' && !(a === undefined && b === undefined);
  if (op === '=') return isDeepStrictEqual(a, b);
  if (op === '<>') return !isDeepStrictEqual(a, b);
  let order: number;
  if ('N' in a && 'N' in b) order = Math.sign(Number(a.N) - Number(b.N));
  else if ('S' in a && 'S' in b) order = Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  else if ('B' in a && 'B' in b)
    order = Buffer.compare(Buffer.from(a.B, 'base64'), Buffer.from(b.B, 'base64'));
  else return false; // different types never compare
  switch (op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    default:
      throw validation(`Invalid expression: unknown comparator ${op}`);
  }
}

/**
 * A Query's key condition: `pk = :v`, then optionally `AND` one condition on the sort key
 * (`begins_with(sk, :p)`, a comparison, or `sk BETWEEN :a AND :b`).
 */
function keyCondition(
  expression: string,
  table: { key: string; sortKey?: string },
  context: ExpressionContext,
): (item: Item) => boolean {
  const parser = new Parser(tokenize(expression), context);
  const partitionName = parser.path();
  parser.expect('=');
  const partitionValue = parser.operand()({});
  if (partitionName !== table.key || !partitionValue) {
    throw validation('Query condition missed key schema element: the partition key');
  }
  const predicates: Predicate[] = [(item) => compare(item[table.key], '=', partitionValue)];
  if (!parser.done()) {
    if (!parser.isWord('AND'))
      throw validation(`Invalid KeyConditionExpression near "${parser.peek()?.text}"`);
    parser.next();
    if (parser.isWord('BEGINS_WITH')) {
      parser.next();
      parser.expect('(');
      const name = parser.path();
      parser.expect(',');
      const prefix = parser.operand()({});
      parser.expect(')');
      if (name !== table.sortKey || !prefix || !('S' in prefix)) {
        throw validation('begins_with needs the sort key and a string');
      }
      predicates.push((item) => {
        const value = item[name];
        return value !== undefined && 'S' in value && value.S.startsWith(prefix.S);
      });
    } else {
      const name = parser.path();
      if (name !== table.sortKey) throw validation('Query key condition not supported: not the sort key');
      if (parser.isWord('BETWEEN')) {
        parser.next();
        const low = parser.operand()({});
        if (!parser.isWord('AND')) throw validation('BETWEEN needs AND');
        parser.next();
        const high = parser.operand()({});
        predicates.push((item) => compare(item[name], '>=', low) && compare(item[name], '<=', high));
      } else {
        const op = parser.next();
        if (op.kind !== 'op' || op.text === '<>')
          throw validation(`Invalid key condition operator "${op.text}"`);
        const value = parser.operand()({});
        predicates.push((item) => compare(item[name], op.text, value));
      }
    }
  }
  if (!parser.done()) throw validation(`Invalid KeyConditionExpression: unexpected "${parser.peek()?.text}"`);
  return (item) => predicates.every((predicate) => predicate(item));
}

/** `SET a = :v, #b = :w REMOVE c` */
function applyUpdate(expression: string, item: Item, context: ExpressionContext): void {
  const parser = new Parser(tokenize(expression), context);
  if (parser.done()) throw validation('Invalid UpdateExpression: the expression is empty');
  while (!parser.done()) {
    const clause = parser.next();
    const action = clause.kind === 'word' ? clause.text.toUpperCase() : '';
    if (action !== 'SET' && action !== 'REMOVE') {
      throw validation(`Invalid UpdateExpression: unsupported clause "${clause.text}"`);
    }
    do {
      if (parser.peek()?.text === ',') parser.next();
      const name = parser.path();
      if (action === 'REMOVE') {
        delete item[name];
        continue;
      }
      parser.expect('=');
      const value = parser.operand()(item);
      if (value === undefined) {
        throw validation('The provided expression refers to an attribute that does not exist in the item');
      }
      item[name] = structuredClone(value);
    } while (parser.peek()?.text === ',');
  }
}
