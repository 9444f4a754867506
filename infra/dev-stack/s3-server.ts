/**
 * The embedded S3 server: `rclone serve s3` over `<home>/s3`, where each top-level directory is a
 * bucket and each object a plain file (handy for looking at what a DAG wrote).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createS3Client } from '../s3';
import { assertPortFree } from './ports';
import { startProcess, type ServerProcess } from './process';
import { ensureTool } from './tools';

const READY_TIMEOUT_MS = 30_000;

export interface S3ServerOptions {
  log: Logger;
  /** Aborting gives up waiting for the server to be ready, and stops it (the stack is stopping). */
  signal?: AbortSignal;
}

export async function startS3Server(config: Config, options: S3ServerOptions): Promise<ServerProcess> {
  const { port, accessKeyId, secretAccessKey } = config.s3;
  // Config gives the embedded server its own default keys; only S3_ENDPOINT=aws leaves them unset.
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error('the embedded S3 server needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  const rclone = await ensureTool('rclone', config, options.log);
  await assertPortFree(port, 'the embedded S3 server', 'set SLUICE_S3_PORT, or S3_ENDPOINT for an external server');
  const root = path.join(config.home, 's3');
  await fsp.mkdir(root, { recursive: true });
  const server = await startProcess({
    name: 's3',
    command: rclone,
    args: [
      'serve',
      's3',
      // No rclone.conf: the served path is a plain local directory.
      '--config',
      '',
      '--addr',
      `127.0.0.1:${port}`,
      // Directory listings are cached for 5 minutes by default; files dropped into <home>/s3 by
      // hand (a partner file for the landing zone) should show up in listings within seconds.
      '--dir-cache-time',
      '2s',
      root,
    ],
    home: config.home,
    // Through the environment rather than argv, where every user's `ps` would show the secret.
    // The value is a CSV list of "key,secret" pairs, hence the quoting.
    env: { RCLONE_AUTH_KEY: `"${`${accessKeyId},${secretAccessKey}`.replaceAll('"', '""')}"` },
  });
  const s3 = createS3Client(config);
  try {
    await server.waitUntil(() => s3.send(new ListBucketsCommand({})), {
      what: 'S3 server (rclone)',
      timeoutMs: READY_TIMEOUT_MS,
      signal: options.signal,
    });
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    s3.destroy();
  }
  return server;
}
