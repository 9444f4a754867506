#!/usr/bin/env node
// Entry point for `npx sluice`: loads TypeScript through tsx, then runs the CLI.
require('tsx/cjs');
require('./main.ts')
  .main(process.argv)
  .then((code) => process.exit(code));
