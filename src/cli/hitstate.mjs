#!/usr/bin/env node
// The `hitstate` executable. In a checkout it runs the TypeScript sources through tsx (so a fresh
// clone needs only `npm install`); in the published package it runs the compiled dist/.
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const source = new URL('./main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(source.href);
} else {
  main = await import(new URL('../../dist/src/cli/main.js', import.meta.url).href);
}
// hitstate's library timers are unref'd (a pending poll never keeps a host application alive), so
// while a command waits on one (a rate-limit token, a retry backoff) this handle keeps the process
// running until the command has finished.
const keepAlive = setInterval(() => undefined, 1 << 30);
try {
  process.exitCode = await main.main(process.argv.slice(2));
} finally {
  clearInterval(keepAlive);
}
