// npm's `prepare` script: `npm ci` / `npm install` in a checkout (and `npm pack`) build dist/, so that
// `npm start` only runs `node dist/main.js serve`. A production install (`npm ci --omit=dev`) has no
// TypeScript compiler: rather than failing the whole install there, say so and leave dist/ as it is
// (the container image builds dist/ in its own stage and installs production dependencies with
// --ignore-scripts, see Dockerfile). Any other build failure fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

function compilerInstalled() {
  try {
    createRequire(import.meta.url).resolve('typescript/package.json');
    return true;
  } catch {
    return false;
  }
}

if (!compilerInstalled()) {
  const built = existsSync(new URL('../dist/main.js', import.meta.url));
  console.warn(
    `prepare: TypeScript is not installed (dev dependencies omitted), not building dist/; ${
      built ? 'the existing dist/ is used' : 'dist/main.js is MISSING: build it with a full `npm ci` first'
    }`,
  );
  process.exit(0);
}
// npm sets npm_execpath to its own CLI while it runs a script; fall back to the npm on PATH.
const npmCli = process.env.npm_execpath;
const result =
  npmCli !== undefined && npmCli !== ''
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (result.error !== undefined) throw result.error;
process.exit(result.status ?? 1);
