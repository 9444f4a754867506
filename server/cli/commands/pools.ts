import type { Command } from 'commander';
import { listPools, poolDescription, poolName, poolSlots, setPool, type PoolInfo } from '../../client/pools';
import { badInput } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';

/** `sluice pools list|set`: the named slot pools tasks share (a task's `pool` option). */
export function registerPoolCommands(program: Command, output: () => Output, session: () => Session): void {
  const pools = program.command('pools').description('named slot pools shared by every DAG (a task\'s `pool` option)');

  pools
    .command('list')
    .description('each pool: slots, slots in use and attempts waiting (live from its gate), description')
    .action(async () => {
      const rows = await listPools(session().warehouse(), await session().temporal());
      output().result({ pools: rows }, () => poolTable(rows));
    });

  pools
    .command('set <name> <slots>')
    .description('creates a pool or resizes it (0 closes it: its tasks wait); running tasks keep their slots')
    .option('--description <text>', 'what the pool guards (kept when omitted)')
    .action(async (name: string, slotsArg: string, flags: { description?: string }) => {
      const parsed = {
        name: poolName.safeParse(name),
        slots: poolSlots.safeParse(/^-?\d+$/.test(slotsArg.trim()) ? Number(slotsArg) : Number.NaN),
        description: poolDescription.optional().safeParse(flags.description),
      };
      if (!parsed.name.success) throw badInput(`pool name '${name}' ${parsed.name.error.issues[0]?.message ?? 'is invalid'}`);
      if (!parsed.slots.success) throw badInput(`slots must be a whole number from 0 to 10000, got '${slotsArg}'`);
      if (!parsed.description.success) throw badInput(`--description: ${parsed.description.error.issues[0]?.message ?? 'is invalid'}`);
      const pool = await setPool(session().warehouse(), await session().temporal(), {
        name: parsed.name.data,
        slots: parsed.slots.data,
        ...(parsed.description.data !== undefined ? { description: parsed.description.data } : {}),
      });
      output().result(pool, () => `pool ${pool.name}: ${pool.slots} slots (${pool.inUse} in use, ${pool.waiting} waiting)`);
    });
}

function poolTable(rows: PoolInfo[]): string {
  return table(
    ['POOL', 'SLOTS', 'IN USE', 'WAITING', 'DESCRIPTION'],
    rows.map((r) => [r.name, r.slots, r.live ? r.inUse : '?', r.live ? r.waiting : '? (no worker answers its gate)', r.description]),
  );
}
