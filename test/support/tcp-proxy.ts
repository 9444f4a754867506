import net from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`, to connect to instead of the server. */
  address: string;
  /** Closes the proxy and every connection through it: from then on the server looks down. */
  cut(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server (`host:port`), so a test can take that server away from
 * one client (a console, a CLI) without stopping it for the rest of the stack.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(`tcp://${target}`);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
