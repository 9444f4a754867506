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
        section: 'pools',
        crumbs: [['Pools']],
        body: (pools.length
          ? `<p class="muted">Slots shared by every DAG's tasks that name the pool. Resize with the form below or <code>sluice pools set &lt;name&gt; &lt;slots&gt;</code>.</p>
<div class="scroll"><table id="pools" class="responsive"><thead><tr><th>pool</th><th>slots</th><th>in use</th><th>waiting</th><th>description</th><th>set</th></tr></thead><tbody>${rows}</tbody></table></div>`
          : emptyState('No pools.')) + `<section class="card"><h2>Create or resize a pool</h2>
<form id="set-pool" class="stack" novalidate data-api="/api/pools">
<label>pool <input name="name" required autocomplete="off" list="pool-names" placeholder="warehouse"><span class="help">Letters, digits, <code>_</code>, <code>.</code> or <code>-</code>; an existing name resizes that pool.</span></label><small class="field-error" data-error-for="name"></small>
<datalist id="pool-names">${pools.map((p) => `<option value="${esc(p.name)}">`).join('')}</datalist>
<label>slots <input name="slots" type="number" min="0" max="10000" required data-type="integer"><span class="help">0 closes the pool: its tasks wait. Tasks already running keep their slots.</span></label><small class="field-error" data-error-for="slots"></small>
<label>description <input name="description" autocomplete="off"><span class="help">Optional; empty keeps the current one.</span></label><small class="field-error" data-error-for="description"></small>
<div class="actions"><button type="submit">Set pool</button></div></form></section>`,
      }),
    );
  });
  return router;
}
