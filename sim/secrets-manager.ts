import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

export interface SecretsManagerSim {
  endpoint: string;
  secretArn: string;
  /** Rotate: the current value becomes AWSPREVIOUS. */
  putSecretValue(value: string): void;
  close(): Promise<void>;
}

/**
 * Secrets Manager GetSecretValue on 127.0.0.1 (awsJson1_1, `X-Amz-Target: secretsmanager.GetSecretValue`)
 * for one secret with AWSCURRENT and AWSPREVIOUS versions, as the ingest function reads its webhook token.
 */
export async function startSecretsManagerSim(
  initialValue: string,
  { region = 'eu-west-1', account = '123456789012', name = 'rollout-verifier-webhook-token' } = {},
): Promise<SecretsManagerSim> {
  const secretArn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
  const versions: Array<{ id: string; value: string; createdAt: Date }> = [
    { id: randomUUID(), value: initialValue, createdAt: new Date() },
  ];

  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(body));
    };
    if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return reply(400, { __type: 'UnknownOperationException', message: 'only GetSecretValue is simulated' });
    }
    const { SecretId, VersionStage = 'AWSCURRENT' } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      SecretId?: string;
      VersionStage?: string;
    };
    const version =
      VersionStage === 'AWSCURRENT'
        ? versions.at(-1)
        : VersionStage === 'AWSPREVIOUS'
          ? versions.at(-2)
          : undefined;
    if ((SecretId !== secretArn && SecretId !== name) || !version) {
      return reply(400, {
        __type: 'ResourceNotFoundException',
        message: `Secrets Manager can't find the specified secret value for staging label: ${VersionStage}`,
      });
    }
    reply(200, {
      ARN: secretArn,
      Name: name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [VersionStage],
      CreatedDate: version.createdAt.getTime() / 1000,
    });
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secretArn,
    putSecretValue: (value) => versions.push({ id: randomUUID(), value, createdAt: new Date() }),
    close: listener.close,
  };
}
