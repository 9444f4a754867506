/** The slot pools: size, use and line, live from each pool's gate; resized with `sluice pools set` or `PUT /api/pools/:name`. */
import { Router } from 'express';
import { listPools } from '../../client/pools';
import type { ConsoleContext } from '../app';
import { emptyState, fmtTime } from '../html/components';
import { esc, page } from '../html/layout';

export function poolPages(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/pools', async (_req, res) => {
    const pools = await listPools(ctx.db, ctx.temporal);
    const rows = pools
      .map(
        (p) => `<tr data-pool="${esc(p.name)}"><td data-label="pool"><code>${esc(p.name)}</code></td><td data-label="slots">${p.slots}</td>
<td data-label="in use">${p.live ? p.inUse : '? (no worker answers)'}</td><td data-label="waiting">${p.live ? p.waiting : '?'}</td>
<td data-label="description">${esc(p.description ?? '')}</td><td data-label="set">${p.updatedAt ? esc(fmtTime(p.updatedAt)) : 'built in'}</td></tr>`,
      )
      .join('\n');
    res.type('html').send(
      page(res, {
        title: 'Pools',
        section: 'schedules',
        crumbs: [['Schedules', '/schedules'], ['Pools']],
        body: pools.length
          ? `<p class="muted">Slots shared by every DAG's tasks that name the pool. Resize with <code>sluice pools set &lt;name&gt; &lt;slots&gt;</code>.</p>
<div class="scroll"><table id="pools" class="responsive"><thead><tr><th>pool</th><th>slots</th><th>in use</th><th>waiting</th><th>description</th><th>set</th></tr></thead><tbody>${rows}</tbody></table></div>`
          : emptyState('No pools.'),
      }),
    );
  });
  return router;
}
