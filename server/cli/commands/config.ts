import type { Command } from 'commander';
import { redactedConfig } from '../../../infra/config';
import type { Output } from '../output';
import type { Session } from '../session';

export function registerConfig(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('config')
    .description('print the effective settings (URLs, ports, home), secrets redacted')
    .action(() => {
      const config = redactedConfig(session().config);
      output().result(config, () => JSON.stringify(config, null, 2));
    });
}
