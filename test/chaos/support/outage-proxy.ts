import net from 'node:net';

export interface OutageProxy {
  /** `127.0.0.1:<port>`: clients connect here instead of to the server; the port never changes. */
  address: string;
  /**
   * The server goes away for these clients: every open connection is cut and new ones are
   * refused (ECONNREFUSED), as when a server host or its network is gone.
   */
  down(): Promise<void>;
  /** The server is reachable again on the same address. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server that can take the server away for a while and give it
 * back on the same port. Unlike stopping the server (SIGSTOP leaves connections hanging with no
 * error at all; a kill gets it restarted by the supervisor within a second), this is an outage of
 * a chosen length that clients see as refused connections, and it leaves the server shared with
 * other tests untouched.
 */
export async function startOutageProxy(target: string): Promise<OutageProxy> {
  const { hostname, port: targetPort } = new URL(`tcp://${target}`);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  const listen = async (port: number): Promise<number> => {
    const s = net.createServer((client) => {
      const upstream = net.connect(Number(targetPort), hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // One side failing ends the connection, as a real network failure would.
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', resolve);
    });
    server = s;
    return (s.address() as net.AddressInfo).port;
  };

  const port = await listen(0);
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    address: `127.0.0.1:${String(port)}`,
    down,
    async up() {
      if (!server) await listen(port);
    },
    close: down,
  };
}
