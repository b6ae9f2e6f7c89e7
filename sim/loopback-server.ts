import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface LoopbackListener {
  port: number;
  /** Closes the listener and every open connection, keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Listen on 127.0.0.1 (a free port) without holding the process open: neither the listening
 * socket nor an idle client connection keeps Node alive, so a forgotten close cannot hang a run.
 */
export async function listenOnLoopback(server: HttpServer | HttpsServer): Promise<LoopbackListener> {
  server.on('connection', (socket) => socket.unref());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
