// Every benchmark runs in a fresh Node process, so one does not distort the next (heap, JIT,
// sockets, GC debt): the parent spawns `child-entry.ts <module> <args as JSON>`, the child calls
// the module's `measure(args)` and prints one `RESULT <json>` line on stdout. Progress goes to
// stderr, which the parent passes through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./child-entry.ts', import.meta.url));
const RESULT = 'RESULT ';

/** What a benchmark module exports. */
export interface BenchModule<A, R> {
  measure(args: A): Promise<R>;
}

export interface ChildOptions {
  /** Extra `node` flags, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** Environment additions. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs `bench/<module>.ts`'s `measure(args)` in a fresh process and returns its result.
 * Rejects with the child's output when it exits without a result.
 */
export function runInChild<A, R>(module: string, args: A, options: ChildOptions = {}): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeFlags ?? []), '--import', 'tsx', ENTRY, module, JSON.stringify(args)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT));
      if (code !== 0 || line === undefined)
        reject(new Error(`benchmark ${module} ended with ${signal ?? `exit ${code}`} and no result:\n${out}`));
      else resolve(JSON.parse(line.slice(RESULT.length)) as R);
    });
  });
}

/** Child side: prints the result line. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

/** Child side: a progress line on stderr, indented under the parent's heading. */
export function progress(line: string): void {
  process.stderr.write(`    ${line}\n`);
}
