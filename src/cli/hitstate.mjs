#!/usr/bin/env node
// The `hitstate` executable. It runs the compiled dist/ (built by `npm install` through the
// `prepare` script); in a checkout whose sources changed since the last build it runs the
// TypeScript sources through tsx instead, so an edit never runs stale code.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledFor } from './compiled.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const source = fileURLToPath(new URL('./main.ts', import.meta.url));
let compiled;
try {
  compiled = compiledFor(source);
} catch (error) {
  console.error(`hitstate: ${error.message}`);
  process.exit(2);
}
let main;
if (compiled !== undefined) {
  main = await import(pathToFileURL(compiled).href);
} else if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import(pathToFileURL(source).href);
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
