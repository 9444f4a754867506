import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The console token: SLUICE_CONSOLE_TOKEN when set, else the one generated into
 * `<SLUICE_HOME>/console-token` on first start (readable by its owner only) and reused after.
 */
export async function consoleToken(home: string, fixed: string | undefined): Promise<string> {
  if (fixed) return fixed;
  const file = path.join(home, 'console-token');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const token = randomBytes(24).toString('base64url');
  await mkdir(home, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
