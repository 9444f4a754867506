import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDagFolder } from '../../dags/sdk';

const SDK = path.resolve(__dirname, '../../dags/sdk');

describe('loadDagFolder', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sluice-dags-'));
    mkdirSync(path.join(dir, 'lib'));
    mkdirSync(path.join(dir, 'sdk'));
    writeFileSync(
      file('lib/acts.ts'),
      `import { defineTask } from ${JSON.stringify(SDK)};
export const extract = defineTask('extract', async (input: { day: string }) => ({ key: input.day }));
export const transform = defineTask('transform', async (input: { key: string }) => input);
`,
    );
    writeFileSync(
      file('good.ts'),
      `import { dag } from ${JSON.stringify(SDK)};
import { extract, transform } from './lib/acts';
export default dag('good', { schedule: '0 2 * * *' }, ({ task, ctx }) => {
  task(transform, task(extract, { day: ctx.logicalDate }));
});
`,
    );
    writeFileSync(
      file('cyclic.ts'),
      `import { dag } from ${JSON.stringify(SDK)};
import { extract, transform } from './lib/acts';
export default dag('cyclic', ({ task }) => {
  const a = task(extract, { day: 'x' });
  a.after(task(transform, a));
});
`,
    );
    writeFileSync(file('throws.ts'), `throw new Error('cannot connect at import');\n`);
    writeFileSync(file('not_a_dag.ts'), `export default 42;\n`);
    writeFileSync(
      file('z_duplicate.ts'),
      `import { dag } from ${JSON.stringify(SDK)};
import { extract } from './lib/acts';
export default dag('good', ({ task }) => void task(extract, { day: 'x' }));
`,
    );
    writeFileSync(file('types.d.ts'), `export type Nothing = never;\n`);
    writeFileSync(file('notes.md'), `not code\n`);
    writeFileSync(file('sdk/helper.ts'), `throw new Error('sub-folders are not DAG modules');\n`);
    writeFileSync(
      file('zz_impostor.ts'),
      `import { dag, defineTask } from ${JSON.stringify(SDK)};
const extract = defineTask('extract', async (input: { day: string }) => input.day);
export default dag('impostor', ({ task }) => void task(extract, { day: 'x' }));
`,
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the good DAG, discovers its tasks, and reports every broken file by name', () => {
    const { dags, errors, tasks } = loadDagFolder(dir);
    assert.deepEqual(
      dags.map((d) => [path.basename(d.file), d.spec.dagId, d.spec.tasks.map((t) => t.id)]),
      [['good.ts', 'good', ['extract', 'transform']]],
    );
    assert.equal(dags[0]?.definition.dagId, 'good');
    assert.deepEqual(tasks.map((t) => t.name), ['extract', 'transform']);
    assert.equal(tasks[0], dags[0]?.tasks[0], 'the very definitions the DAG uses');
    assert.equal(errors.length, 5, errors.join('\n'));
    const [cycle, notDag, throws, duplicate, impostor] = errors;
    assert.equal(cycle, `${file('cyclic.ts')}: dag 'cyclic', task 'extract': cycle: extract -> transform -> extract (each task waits for the one before it)`);
    assert.match(notDag ?? '', new RegExp(`^${escape(file('not_a_dag.ts'))}: must \`export default dag\\(\\.\\.\\.\\)\` \\(found number\\)$`));
    assert.match(throws ?? '', new RegExp(`^${escape(file('throws.ts'))}: failed to import: cannot connect at import$`));
    assert.match(duplicate ?? '', new RegExp(`^${escape(file('z_duplicate.ts'))}: dag 'good' is already defined in ${escape(file('good.ts'))}`));
    assert.equal(
      impostor,
      `${file('zz_impostor.ts')}: dag 'impostor': task definition 'extract' differs from the one ${file('good.ts')} uses; activity names must be unique across the DAG folder`,
    );
  });

  it('re-imports edited files with { fresh: true }', () => {
    const before = loadDagFolder(dir).dags[0]?.spec.version;
    writeFileSync(
      file('good.ts'),
      `import { dag } from ${JSON.stringify(SDK)};
import { extract } from './lib/acts';
export default dag('good', ({ task }) => void task(extract, { day: 'edited' }));
`,
    );
    assert.equal(loadDagFolder(dir).dags[0]?.spec.version, before, 'cached without fresh');
    const reloaded = loadDagFolder(dir, { fresh: true }).dags[0];
    assert.notEqual(reloaded?.spec.version, before);
    assert.deepEqual(reloaded?.spec.tasks[0]?.input, { day: 'edited' });
  });

  it('reports a folder that cannot be read', () => {
    assert.throws(() => loadDagFolder(path.join(dir, 'missing')), /ENOENT/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
