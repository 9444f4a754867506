/** Free TCP ports on the loopback interface, for test stacks that must not collide. */
import net from 'node:net';

const LOOPBACK = '127.0.0.1';

/**
 * `count` distinct ports that were free a moment ago. All are held open together while being
 * picked, so they differ from each other; another process may still take one before it is used.
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(0)));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map(close));
  return ports;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await close(await listen(port));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return false;
    throw err;
  }
}

/**
 * Fails with a clear message when a server's port is taken, instead of letting the server die
 * with "address already in use" somewhere in its log.
 */
export async function assertPortFree(port: number, what: string, howToChange: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} on ${LOOPBACK}, needed by ${what}, is already in use; ${howToChange}`);
  }
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
