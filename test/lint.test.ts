/**
 * `npm test` lints too: the type-aware rules of eslint.config.mjs (floating promises, imports the
 * workflow sandbox cannot take, objects in template strings) over the whole repository, the same
 * check as `npm run lint`.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const REPO = path.resolve(__dirname, '..');

test('eslint reports no errors', { timeout: 120_000 }, async () => {
  const eslint = new ESLint({ cwd: REPO });
  const errors = ESLint.getErrorResults(await eslint.lintFiles(['.']));
  if (errors.length === 0) return;
  const formatter = await eslint.loadFormatter('stylish');
  assert.fail(`npm run lint finds errors:\n${await formatter.format(errors)}`);
});
