import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

/** What a Function URL handler returns (payload format 2.0, the structured form). */
export interface FunctionUrlResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface FunctionUrlServer {
  /** The function's URL, ending in `/` as Lambda's do. */
  url: string;
  close(): Promise<void>;
}

/**
 * The payload 2.0 event Lambda delivers for one HTTP request to a Function URL: lower-cased headers,
 * repeated ones comma-joined, query parameters likewise, the body base64-encoded unless it is text.
 */
export function functionUrlEventOf(request: IncomingMessage, body: Buffer) {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const text = /json|text/.test(headers['content-type'] ?? '') || body.length === 0;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'loopback',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'loopback',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
}

/**
 * A Lambda Function URL on 127.0.0.1: each HTTP request becomes the payload 2.0 event Lambda
 * delivers (lower-cased headers, repeated ones comma-joined, query parameters likewise, the body
 * base64-encoded unless it is text) and the handler's structured answer becomes the response.
 */
export async function startFunctionUrlServer(
  invoke: (event: unknown) => Promise<FunctionUrlResult>,
): Promise<FunctionUrlServer> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const event = functionUrlEventOf(request, body);
    try {
      const result = await invoke(event);
      response.writeHead(result.statusCode, result.headers ?? {});
      response.end(result.body ?? '');
    } catch (error) {
      // Lambda answers an unhandled function error with 502.
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: (error as Error).message }));
    }
  });
  const listener = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${listener.port}/`, close: listener.close };
}
