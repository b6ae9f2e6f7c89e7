import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FAST_CLIENT_OPTIONS } from '../../../lambdas/ingest/clients.js';

// A loopback endpoint that accepts requests and never answers: a hung AWS endpoint.
let server: Server;
let endpoint: string;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((request) => {
    received.push(String(request.headers['x-amz-target'] ?? request.url));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('a hung endpoint costs the webhook about 3 s per call (2 attempts × 1.5 s), never the function timeout', async () => {
  const eventBridge = new EventBridgeClient({ ...FAST_CLIENT_OPTIONS, endpoint });
  const secrets = new SecretsManagerClient({ ...FAST_CLIENT_OPTIONS, endpoint });
  const started = Date.now();
  const [put, get] = await Promise.allSettled([
    eventBridge.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })),
    secrets.send(new GetSecretValueCommand({ SecretId: 'x' })),
  ]);
  const elapsed = Date.now() - started;
  expect(put.status).toBe('rejected');
  expect(get.status).toBe('rejected');
  expect((put as PromiseRejectedResult).reason.name).toBe('TimeoutError');
  expect(elapsed).toBeGreaterThanOrEqual(2_900);
  expect(elapsed).toBeLessThan(4_500);
  expect(received.filter((target) => target.includes('PutEvents'))).toHaveLength(2);
  expect(received.filter((target) => target.includes('GetSecretValue'))).toHaveLength(2);
  eventBridge.destroy();
  secrets.destroy();
});
