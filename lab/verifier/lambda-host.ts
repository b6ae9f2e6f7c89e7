/**
 * One Lambda function's execution environment: a Node process (the Node 24 that npm runs) with
 * the function's own environment variables, which imports the deployment bundle once (the cold
 * start) and runs `handler(event, context)` for each invocation posted to it on 127.0.0.1.
 *
 *   node --import tsx lab/verifier/lambda-host.ts <bundle index.mjs> <port file>
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [bundle, portFile] = process.argv.slice(2);
if (!bundle || !portFile) throw new Error('usage: lambda-host <bundle> <port file>');

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };

interface Invocation {
  event: unknown;
  timeoutMs: number;
}

const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => {
    body += chunk;
  });
  request.on('end', async () => {
    const { event, timeoutMs } = JSON.parse(body) as Invocation;
    const deadline = Date.now() + timeoutMs;
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: '$LATEST',
      awsRequestId: crypto.randomUUID(),
      memoryLimitInMB: '256',
      invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
      getRemainingTimeInMillis: () => deadline - Date.now(),
      callbackWaitsForEmptyEventLoop: true,
    };
    let answer: unknown;
    try {
      answer = { ok: true, result: (await handler(event, context)) ?? null };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      answer = { ok: false, error: { name: failure.name, message: failure.message } };
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(answer));
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  writeFileSync(portFile, String(typeof address === 'object' && address ? address.port : 0));
});
