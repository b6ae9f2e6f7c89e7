import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readIngestSettings } from '../../../lambdas/ingest/settings.js';
import { SourceAllowList } from '../../../lambdas/ingest/source-allow-list.js';
import { logger, metrics } from '../../../lambdas/shared/powertools.js';
import { restApiEvent } from '../../../sim/function-url-event.js';
import {
  BUS,
  CURRENT_TOKEN,
  fixtureText,
  functionUrlEvent,
  publishedEntries,
  resetClients,
  responseBody,
  SECRET_ARN,
  testHandler,
} from './support.js';

const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
const BODY = fixtureText('alb-step-completed-setweight.json');
const metricNames = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map(([name]) => name);

beforeEach(() => {
  resetClients(events, secrets);
  vi.restoreAllMocks();
});

describe('ALLOWED_SOURCE_CIDRS: checked before anything else', () => {
  const NAT = ['203.0.113.0/28', '2001:db8:1::/48'];

  it('a source outside → 403, IngestForbiddenSources, no token read, no method check, nothing above DEBUG', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    const { invoke } = testHandler({ allowedSourceCidrs: NAT });
    for (const request of [
      functionUrlEvent({ body: BODY, sourceIp: '198.51.100.9' }),
      functionUrlEvent({ method: 'GET', sourceIp: '203.0.113.16', token: 'a-guess-a-guess-a-guess' }),
      functionUrlEvent({ body: BODY, sourceIp: '2001:db8:2::1' }),
    ]) {
      const response = await invoke(request);
      expect(response.statusCode).toBe(403);
      expect(responseBody(response)).toEqual({ error: 'forbidden' });
    }
    expect(metricNames(addMetric)).toEqual(Array(3).fill('IngestForbiddenSources'));
    expect(secrets.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
    expect(warn).not.toHaveBeenCalled();
  });

  it('a source inside goes on to the usual checks', async () => {
    const { invoke } = testHandler({ allowedSourceCidrs: NAT });
    expect((await invoke(functionUrlEvent({ body: BODY, sourceIp: '203.0.113.15' }))).statusCode).toBe(202);
    expect((await invoke(functionUrlEvent({ body: BODY, sourceIp: '2001:db8:1:ffff::7' }))).statusCode).toBe(
      202,
    );
    expect(
      (await invoke(functionUrlEvent({ body: BODY, sourceIp: '203.0.113.1', token: 'wrong-wrong-wrong-1' })))
        .statusCode,
    ).toBe(401);
  });

  it('no allow-list: any source', async () => {
    expect(
      (await testHandler().invoke(functionUrlEvent({ body: BODY, sourceIp: '198.51.100.9' }))).statusCode,
    ).toBe(202);
  });

  it('SourceAllowList: bare addresses are single hosts; anything unparsable is outside', () => {
    const list = new SourceAllowList(['192.0.2.10', '10.0.0.0/8']);
    expect(list.allows('192.0.2.10')).toBe(true);
    expect(list.allows('192.0.2.11')).toBe(false);
    expect(list.allows('10.255.0.1')).toBe(true);
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('not-an-address')).toBe(false);
  });

  it('is read from the environment, and a bad block fails the cold start naming the variable', () => {
    const base = { EVENT_BUS_NAME: BUS, WEBHOOK_TOKEN_SECRET_ARN: SECRET_ARN };
    expect(
      readIngestSettings({ ...base, ALLOWED_SOURCE_CIDRS: ' 203.0.113.0/28 , 2001:db8::/32 ' })
        .ALLOWED_SOURCE_CIDRS,
    ).toEqual(['203.0.113.0/28', '2001:db8::/32']);
    expect(readIngestSettings({ ...base, ALLOWED_SOURCE_CIDRS: '' }).ALLOWED_SOURCE_CIDRS).toEqual([]);
    for (const bad of ['203.0.113.0/33', 'example.com/24', '203.0.113.0/24/1', '2001:db8::/129']) {
      expect(() => readIngestSettings({ ...base, ALLOWED_SOURCE_CIDRS: bad })).toThrow(
        /ALLOWED_SOURCE_CIDRS.*must be CIDR blocks/,
      );
    }
  });
});

describe('the REST API front (API Gateway proxy, payload format 1.0)', () => {
  it('publishes a notification as the Function URL does, the source taken from the identity', async () => {
    const { invoke } = testHandler({ cluster: 'prod', allowedSourceCidrs: ['203.0.113.0/28'] });
    const response = await invoke(
      restApiEvent({ body: BODY, token: CURRENT_TOKEN, query: { cluster: 'prod' } }),
    );
    expect(response.statusCode).toBe(202);
    expect(publishedEntries(events)[0]?.detail.cluster).toBe('prod');
    expect(
      (await invoke(restApiEvent({ body: BODY, token: CURRENT_TOKEN, sourceIp: '198.51.100.1' }))).statusCode,
    ).toBe(403);
  });

  it('a repeated Authorization header (multiValueHeaders) is refused like a comma-joined one', async () => {
    const response = await testHandler().invoke(
      restApiEvent({
        body: BODY,
        token: null,
        repeatedHeaders: { authorization: [`Bearer ${CURRENT_TOKEN}`, 'Bearer another-token-0123456789'] },
      }),
    );
    expect(response.statusCode).toBe(401);
  });

  it('the method is read from httpMethod', async () => {
    expect((await testHandler().invoke(restApiEvent({ method: 'GET' }))).statusCode).toBe(405);
  });
});
