import { Router } from 'express';
import { z } from 'zod';
import { listPools, poolDescription, poolName, poolSlots, setPool } from '../../client/pools';
import type { ConsoleContext } from '../app';
import { FieldError } from '../errors';

const poolBody = z.object({ slots: poolSlots, description: poolDescription.optional() }).strict();
/** The console's form names the pool in the body (a form cannot put a field into its URL). */
const namedPoolBody = poolBody.extend({ name: poolName }).strict();

/** Slot pools: list them with their live use, create or resize one (auth and CSRF as every write). */
export function poolsApi({ temporal, db }: ConsoleContext): Router {
  const router = Router();

  router.get('/pools', async (_req, res) => {
    res.json({ pools: await listPools(db, temporal) });
  });

  router.put('/pools/:name', async (req, res) => {
    const name = poolName.safeParse(req.params.name);
    if (!name.success) throw new FieldError('name', `pool name ${name.error.issues[0]?.message ?? 'is invalid'}`);
    const body = poolBody.parse(req.body ?? {});
    res.json(await setPool(db, temporal, { name: name.data, slots: body.slots, ...(body.description !== undefined ? { description: body.description } : {}) }));
  });

  router.post('/pools', async (req, res) => {
    const body = namedPoolBody.parse(req.body ?? {});
    const pool = await setPool(db, temporal, { name: body.name, slots: body.slots, ...(body.description ? { description: body.description } : {}) });
    res.json({ ...pool, location: '/pools' });
  });
  return router;
}
