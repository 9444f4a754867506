import { Router } from 'express';
import { z } from 'zod';
import { listPools, poolDescription, poolName, poolSlots, setPool } from '../../client/pools';
import type { ConsoleContext } from '../app';
import { FieldError } from '../errors';

const poolBody = z.object({ slots: poolSlots, description: poolDescription.optional() }).strict();

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
  return router;
}
