/**
 * `sluice`: the command line. Each command lives in `commands/`; this file wires them, the
 * global `--json` flag and the exit codes (see errors.ts).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../../infra/config';
import { RunClosedError } from '../client/operator';
import { serverFailure, type ServerFailure } from '../client/server-failures';
import { NoSuchWorkflowError, WorkerUnavailableError } from '../client/workers';
import { registerBackfill } from './commands/backfill';
import { registerBackfills } from './commands/backfills';
import { registerClear } from './commands/clear';
import { registerConfig } from './commands/config';
import { registerConsole } from './commands/console';
import { registerConnectionCommands } from './commands/connections';
import { registerDagCommands } from './commands/dags';
import { registerDbCommands } from './commands/db';
import { registerDemoCommands } from './commands/demo';
import { registerPoolCommands } from './commands/pools';
import { registerRunCommands } from './commands/runs';
import { registerScheduleCommands } from './commands/schedules';
import { registerTrigger } from './commands/trigger';
import { registerUp } from './commands/up';
import { registerWorker } from './commands/worker';
import { CliError, EXIT } from './errors';
import { createOutput, type Output } from './output';
import { Session } from './session';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('sluice')
    .description('Airflow-style DAGs on Temporal')
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .showHelpAfterError();
  let session: Session | undefined;
  const output = (): Output => createOutput(Boolean(program.opts().json));
  const getSession = (): Session => (session ??= new Session(loadConfig()));

  registerUp(program, output);
  registerDagCommands(program, output);
  registerTrigger(program, output, getSession);
  registerRunCommands(program, output, getSession);
  registerClear(program, output, getSession);
  registerScheduleCommands(program, output, getSession);
  registerBackfill(program, output, getSession);
  registerBackfills(program, output, getSession);
  registerConfig(program, output, getSession);
  registerWorker(program);
  registerConsole(program, output, getSession);
  registerConnectionCommands(program, output, getSession);
  registerDemoCommands(program, output, getSession);
  registerDbCommands(program, output, getSession);
  registerPoolCommands(program, output, getSession);

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    const [code, message] = classify(err);
    if (message) {
      const reported = err instanceof CliError && err.reported;
      if (argv.includes('--json') && !reported) process.stdout.write(`${JSON.stringify({ error: message, exitCode: code })}\n`);
      process.stderr.write(`sluice: ${message}\n`);
      if (DEBUG_LEVELS.has(process.env.LOG_LEVEL ?? '') && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
    return code;
  } finally {
    await session?.close();
  }
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);
const SERVER_FAILURE_EXIT: Record<ServerFailure['kind'], number> = { unreachable: EXIT.unreachable, refused: EXIT.failed, invalid: EXIT.badInput };

/**
 * Every failure as an exit code and one message for whoever ran the command. A stack only helps
 * whoever debugs Sluice, so it is printed with LOG_LEVEL=debug alone.
 */
function classify(err: unknown): [number, string | undefined] {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0 and nothing more to say.
    return [err.exitCode === 0 ? EXIT.ok : EXIT.badInput, undefined];
  }
  if (err instanceof CliError) return [err.exitCode, err.message];
  if (err instanceof ConfigError) return [EXIT.badInput, err.message];
  if (err instanceof RunClosedError) return [EXIT.failed, err.message];
  if (err instanceof WorkerUnavailableError) return [EXIT.unreachable, err.message];
  if (err instanceof NoSuchWorkflowError) return [EXIT.badInput, err.message];
  if (err instanceof WorkflowNotFoundError) return [EXIT.badInput, `no such run or backfill: ${err.workflowId}`];
  if (err instanceof WorkflowUpdateFailedError) {
    return [EXIT.failed, `refused: ${err.cause instanceof Error ? err.cause.message : err.message}`];
  }
  const server = serverFailure(err);
  if (server) return [SERVER_FAILURE_EXIT[server.kind], server.message];
  return [EXIT.failed, err instanceof Error && err.message ? err.message : String(err)];
}

if (require.main === module) {
  // main turns every failure into an exit code; were it to reject anyway, Node's default for an
  // unhandled rejection (print it, exit 1) is what we want.
  void main(process.argv).then((code) => process.exit(code));
}
