/**
 * The little XML the simulator needs: a builder for awsQuery responses (lists are `<member>`
 * elements, structures nest by member name) and a small parser the tests use to compare element
 * structure with the AWS API reference examples. No dependency: the shapes are simple and the
 * builder only ever writes elements and text.
 */

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

// XML 1.0 forbids most C0 controls and the non-characters even when escaped: drop them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the characters XML cannot carry is the point
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXmlText(value: string): string {
  return value
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * Serializes a value the way the awsQuery protocol does: `undefined`/`null` members are left
 * out, arrays become `<Name><member>…</member></Name>` (an empty array an empty element), objects
 * nest by key, dates are ISO-8601, booleans and numbers their plain text.
 */
export function writeValue(name: string, value: unknown, out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const item of value) writeValue('member', item, out);
    out.push(`</${name}>`);
    return;
  }
  if (value instanceof Date) {
    out.push(`<${name}>${value.toISOString()}</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
    if (entries.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const [key, child] of entries) writeValue(key, child, out);
    out.push(`</${name}>`);
    return;
  }
  if (typeof value === 'string') {
    out.push(`<${name}>${escapeXmlText(value)}</${name}>`);
    return;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    out.push(`<${name}>${String(value)}</${name}>`);
    return;
  }
  throw new TypeError(`cannot serialize ${typeof value} as XML element ${name}`);
}

/** `<XxxResponse xmlns><XxxResult>…</XxxResult><ResponseMetadata><RequestId/></ResponseMetadata></XxxResponse>` */
export function queryResponse(action: string, result: object, requestId: string): string {
  const out: string[] = [`<${action}Response xmlns="${ELBV2_XMLNS}">`];
  writeValue(`${action}Result`, result, out);
  out.push(`<ResponseMetadata><RequestId>${escapeXmlText(requestId)}</RequestId></ResponseMetadata>`);
  out.push(`</${action}Response>`);
  return out.join('');
}

/** `<ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` */
export function queryErrorResponse(
  type: 'Sender' | 'Receiver',
  code: string,
  message: string,
  requestId: string,
): string {
  return (
    `<ErrorResponse xmlns="${ELBV2_XMLNS}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXmlText(code)}</Code><Message>${escapeXmlText(message)}</Message></Error>` +
    `<RequestId>${escapeXmlText(requestId)}</RequestId></ErrorResponse>`
  );
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

/**
 * Parses the well-formed, namespace-light XML that AWS Query APIs return (declaration, comments,
 * elements, attributes, text). Not a general XML parser: no DTDs, CDATA or processing
 * instructions beyond the declaration. Throws on anything unbalanced.
 */
export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const textEnd = lt === -1 ? source.length : lt;
    const text = source.slice(i, textEnd);
    if (text.trim() !== '') {
      const top = stack.at(-1);
      if (!top) throw new Error(`text outside the root element at ${i}`);
      top.text += decodeEntities(text);
    }
    if (lt === -1) break;
    if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt + 4);
      if (end === -1) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (source.startsWith('<?', lt)) {
      const end = source.indexOf('?>', lt + 2);
      if (end === -1) throw new Error('unterminated declaration');
      i = end + 2;
      continue;
    }
    const gt = source.indexOf('>', lt);
    if (gt === -1) throw new Error(`unterminated tag at ${lt}`);
    const inner = source.slice(lt + 1, gt);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`unexpected </${name}> at ${lt}`);
      i = gt + 1;
      continue;
    }
    const selfClosing = inner.endsWith('/');
    const body = selfClosing ? inner.slice(0, -1) : inner;
    const nameMatch = /^\s*([A-Za-z_][\w.:-]*)/.exec(body);
    if (!nameMatch?.[1]) throw new Error(`bad tag <${inner}> at ${lt}`);
    const element: XmlElement = { name: nameMatch[1], attributes: {}, children: [], text: '' };
    for (const attr of body.slice(nameMatch[0].length).matchAll(/([\w.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      element.attributes[attr[1] as string] = decodeEntities(attr[3] ?? attr[4] ?? '');
    }
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else if (root) throw new Error('more than one root element');
    else root = element;
    if (!selfClosing) stack.push(element);
    i = gt + 1;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element path in a document (`A/B/member/C`), the shape of a response without its values. */
export function elementPaths(root: XmlElement): Set<string> {
  const paths = new Set<string>();
  const walk = (element: XmlElement, prefix: string) => {
    const path = prefix ? `${prefix}/${element.name}` : element.name;
    paths.add(path);
    for (const child of element.children) walk(child, path);
  };
  walk(root, '');
  return paths;
}
