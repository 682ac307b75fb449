// Lint with the project graph cached first: without it, @nx/enforce-module-boundaries silently skips.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const run = (args) => spawnSync('npx', args, { stdio: 'inherit', env }).status ?? 1;
const targets = process.argv.slice(2);
process.exit(
  run(['nx', 'show', 'projects', '--json']) ||
    run(['eslint', '--max-warnings', '0', ...(targets.length ? targets : ['.'])]),
);
