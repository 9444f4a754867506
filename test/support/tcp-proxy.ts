import net from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`, to connect to instead of the server; the port never changes. */
  address: string;
  /**
   * The server goes away for the proxy's clients: every open connection is cut and new ones are
   * refused (ECONNREFUSED), as when a server host or its network is gone.
   */
  cut(): Promise<void>;
  /** The server is reachable again, on the same address. */
  restore(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server (`host:port`), so a test can take that server away from
 * some clients (a console, a CLI, a stack of its own) for as long as it likes, without stopping it
 * for the rest of the shared stack. Unlike stopping the server (SIGSTOP leaves connections
 * hanging with no error; a kill gets it restarted by a supervisor within a second), clients see
 * refused connections for exactly the outage's length.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = new URL(`tcp://${target}`);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  const listen = async (port: number): Promise<number> => {
    const listening = net.createServer((client) => {
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
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    server = listening;
    return (listening.address() as net.AddressInfo).port;
  };

  const port = await listen(0);
  return {
    address: `127.0.0.1:${String(port)}`,
    async cut() {
      const open = server;
      server = undefined;
      if (!open) return;
      const closed = new Promise<void>((resolve) => open.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      if (!server) await listen(port);
    },
  };
}
