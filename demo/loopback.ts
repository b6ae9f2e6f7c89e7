import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * Every outbound TCP connection this process opens while the guard runs (Node's
 * `net.client.socket` diagnostics channel), so the demo can show — and its test assert — that
 * nothing but 127.0.0.1 was contacted: no AWS endpoint, no instance metadata, no registry.
 */
export interface LoopbackGuard {
  /** `host:port` of each connection, in order (hostnames as looked up, addresses as connected). */
  readonly connections: readonly string[];
  /** The connections that did not go to 127.0.0.1 / ::1. */
  outside(): string[];
  stop(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function startLoopbackGuard(): LoopbackGuard {
  const connections: string[] = [];
  const onSocket = (message: unknown) => {
    const socket = (message as { socket?: Socket }).socket;
    if (!socket) return;
    socket.once('lookup', (_error: unknown, address: string, _family: unknown, host: string) => {
      if (!LOOPBACK.test(address)) connections.push(`${host} (${address})`);
    });
    socket.once('connect', () => connections.push(`${socket.remoteAddress}:${socket.remotePort}`));
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  return {
    connections,
    outside: () =>
      connections.filter(
        (connection) => !LOOPBACK.test(connection.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')),
      ),
    stop: () => diagnostics.unsubscribe('net.client.socket', onSocket),
  };
}
