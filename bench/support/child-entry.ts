// Entry point of a benchmark's child process; see child.ts.
import { answerWatchdog, type BenchModule, emitResult } from './child.js';

const [module, json] = process.argv.slice(2);
if (module === undefined || !/^[a-z0-9-]+(\/[a-z0-9-]+)?$/.test(module))
  throw new Error(`child-entry needs a bench module name, got ${JSON.stringify(module)}`);
answerWatchdog(module);
// `.ts` under tsx, `.js` when compiled (COMPILED_DIR): the module is this file's sibling either way.
const extension = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
const loaded = (await import(new URL(`../${module}${extension}`, import.meta.url).href)) as BenchModule<
  unknown,
  unknown
>;
const result = await loaded.measure(JSON.parse(json ?? '{}'));
emitResult(result);
// Nothing may keep a finished benchmark alive (a socket, a timer of a closed runtime).
process.exit(0);
