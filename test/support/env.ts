import { loadConfig, type Config } from '../../infra/config';

/** The config of the test stack the runner started (its URLs are in this process's env). */
export function testConfig(): Config {
  return loadConfig(process.env);
}
