export interface RequestOptions {
  /** The caller's address (default 203.0.113.7). */
  sourceIp?: string;
  method?: string;
  body?: string;
  base64?: boolean;
  /** The bearer token; null or absent sends no Authorization header. */
  token?: string | null;
  authorization?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** The URL path (default `/`). */
  path?: string;
}

/** A Lambda Function URL request (payload format 2.0) as Lambda delivers it. */
export function functionUrlEvent(options: RequestOptions = {}) {
  const method = options.method ?? 'POST';
  const authorization =
    options.authorization ??
    (options.token === null || options.token === undefined ? undefined : `Bearer ${options.token}`);
  const body = options.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: options.path ?? '/',
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: {
      'content-type': 'application/json',
      host: 'abcdefgh.lambda-url.eu-west-1.on.aws',
      'user-agent': 'Go-http-client/1.1',
      ...(authorization !== undefined ? { authorization } : {}),
      ...options.headers,
    },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefgh',
      domainName: 'abcdefgh.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abcdefgh',
      http: {
        method,
        path: options.path ?? '/',
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '203.0.113.7',
        userAgent: 'Go-http-client/1.1',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '03/Nov/2025:10:00:00 +0000',
      timeEpoch: 1762164000000,
    },
    ...(body !== undefined
      ? {
          body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
          isBase64Encoded: options.base64 ?? false,
        }
      : { isBase64Encoded: false }),
  };
}

/**
 * The same request through an API Gateway REST API proxy integration (payload format 1.0), the
 * optional front of lib/ingest.ts: `multiValueHeaders` holds every value of a repeated header.
 */
export function restApiEvent(options: RequestOptions & { repeatedHeaders?: Record<string, string[]> } = {}) {
  const url = functionUrlEvent(options);
  const headers = {
    ...url.headers,
    ...Object.fromEntries(
      Object.entries(options.repeatedHeaders ?? {}).map(([name, values]) => [name, values.at(-1)]),
    ),
  };
  return {
    resource: '/',
    path: '/',
    httpMethod: url.requestContext.http.method,
    headers,
    multiValueHeaders: {
      ...Object.fromEntries(Object.entries(url.headers).map(([name, value]) => [name, [value]])),
      ...options.repeatedHeaders,
    },
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      httpMethod: url.requestContext.http.method,
      identity: { sourceIp: url.requestContext.http.sourceIp, userAgent: url.requestContext.http.userAgent },
      path: '/webhook/',
      requestId: 'rest-req-1',
      resourcePath: '/',
      stage: 'webhook',
    },
    body: 'body' in url ? url.body : null,
    isBase64Encoded: url.isBase64Encoded,
  };
}
