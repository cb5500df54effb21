#!/usr/bin/env node
// The checks `npm test` runs before any test: the type check, the linter and the build, started
// at once (they read the tree and write only dist/, so none waits on another) and each reported
// in full. Any failure fails the whole command, naming the step; the tests then do not run.
// Run one after another they took ~38 s of wall time on a 2-core machine; at once about a third.
//
// Usage: node test/checks.mjs  (each step is its npm script, so the commands live in package.json)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The npm scripts run before the tests, in the order their output is printed. */
export const CHECKS = ['typecheck', 'lint', 'build'];

function runScript(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', name], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => void (output += d));
    child.stderr.on('data', (d) => void (output += d));
    child.on('error', (err) =>
      resolve({ name, code: 1, output: `${output}${err.message}\n`, ms: Date.now() - started }),
    );
    child.on('close', (code, signal) =>
      resolve({ name, code: code ?? (signal ? 1 : 0), output, ms: Date.now() - started }),
    );
  });
}

const started = Date.now();
const results = await Promise.all(CHECKS.map(runScript));
for (const r of results) {
  const verdict = r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`;
  console.log(`npm run ${r.name}: ${verdict} in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.output.trim() !== '') console.log(r.output.trimEnd().replace(/^/gm, '  '));
}
const failed = results.filter((r) => r.code !== 0).map((r) => r.name);
console.log(
  `checks: ${failed.length === 0 ? 'all passed' : `${failed.join(', ')} failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
if (failed.length > 0) {
  // The tests are not run: the line below keeps the one-total convention of test/run.mjs.
  console.log('0 passed, 1 failed');
  process.exit(1);
}
