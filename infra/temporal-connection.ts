/**
 * The options every connection to Temporal is made with, for the client's `Connection` and the
 * worker's `NativeConnection` alike: the address, TLS (system roots, a private CA, a client
 * certificate for mTLS, a server name) and an API key. loadConfig has already checked the files
 * exist and hold PEM; they are read here, when a connection is made, so a rotated certificate is
 * picked up by the next connection.
 */
import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from './config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(temporal: Pick<Config['temporal'], 'address' | 'tls' | 'apiKey'>): TemporalConnectionOptions {
  const { address, tls, apiKey } = temporal;
  return {
    address,
    ...(tls ? { tls: tlsConfig(tls) } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

function tlsConfig(tls: NonNullable<Config['temporal']['tls']>): TLSConfig {
  const { clientCertPath, clientKeyPath, serverCaPath, serverName } = tls;
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(serverCaPath ? { serverRootCACertificate: fs.readFileSync(serverCaPath) } : {}),
    ...(clientCertPath && clientKeyPath ? { clientCertPair: { crt: fs.readFileSync(clientCertPath), key: fs.readFileSync(clientKeyPath) } } : {}),
  };
}
