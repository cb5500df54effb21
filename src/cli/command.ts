/**
 * The shape every `hitstate` command has, and the small argument parser they share.
 *
 * Commands never call `process.exit`, never write to `process.stdout` directly and never read
 * `process.env` directly: they get a {@link CliIO}, so tests run them in-process and capture
 * what they print.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { HitstateError } from '../errors.js';

/** Exit codes of the `hitstate` command (documented in docs/cli.md). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  liveNotConfirmed: 3,
  interrupted: 130,
} as const;

/** A command-line option. Values come from the flag, else from `env`, else `default`. */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly description: string;
  readonly short?: string;
  readonly default?: string | number | boolean;
  /** A HITSTATE_* environment variable that sets the option when the flag is absent. */
  readonly env?: string;
  readonly choices?: readonly string[];
  /** Placeholder shown in help, e.g. `N` in `--units N`. */
  readonly value?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
}

/** Where a command prints and what it knows of its terminal. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  /** Width of the terminal in characters, when stdout is one. */
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  /** Aborted on the second Ctrl-C: stop waiting and leave now. */
  readonly forceSignal: AbortSignal;
  /**
   * Asks the person at the terminal and resolves with their answer (trimmed), or undefined when
   * there is nobody to ask (stdin or stdout is not a terminal): confirmations then need a flag.
   * Commands ask through this, never through `process.stdin`.
   */
  ask(question: string): Promise<string | undefined>;
}

export type OptionValues = Record<string, string | number | boolean | undefined>;

export interface ParsedArgs {
  readonly options: OptionValues;
  readonly positionals: readonly string[];
}

/** One `hitstate` subcommand. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly string[];
  /** Longer help text, shown after the usage line. */
  readonly description?: string;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** A usage error: unknown option, bad value, missing argument. Exits with {@link EXIT.usage}. */
export function usageError(message: string, field?: string): HitstateError {
  return new HitstateError('HST_ERR_CLI_USAGE', message, field ? { field } : {});
}

/** Closest candidate by edit distance (a swap of two neighbours counts as one edit), when close enough to be a plausible typo. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) =>
      Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
          best = Math.min(best, d[i - 2]![j - 2]! + 1);
        d[i]![j] = best;
      }
    }
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = distance(input, c);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Parses argv for a command: flags, then `env`, then defaults; checks types, choices and positionals. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[], env: CliIO['env']): ParsedArgs {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of spec.options)
    parseOptions[o.name] = {
      type: o.type === 'boolean' ? 'boolean' : 'string',
      ...(o.short ? { short: o.short } : {}),
    };
  parseOptions.help = { type: 'boolean', short: 'h' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: parseOptions, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const hint = suggest(
        unknown.replace(/^-+/, ''),
        spec.options.map((o) => o.name),
      );
      throw usageError(
        `hitstate ${spec.name}: unknown option ${unknown}.${hint ? ` Did you mean --${hint}?` : ''} See \`hitstate ${spec.name} --help\`.`,
      );
    }
    throw usageError(`hitstate ${spec.name}: ${message.replace(/\.$/, '')}. See \`hitstate ${spec.name} --help\`.`);
  }
  const options: OptionValues = { help: parsed.values.help === true };
  for (const o of spec.options) {
    let raw: string | boolean | undefined = parsed.values[o.name] as string | boolean | undefined;
    if (raw === undefined && o.env && env[o.env] !== undefined)
      raw = o.type === 'boolean' ? /^(1|true|yes)$/i.test(env[o.env]!) : env[o.env];
    if (raw === undefined) {
      options[o.name] = o.default;
      continue;
    }
    if (o.type === 'number') {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
        throw usageError(`hitstate ${spec.name}: --${o.name} must be a number, got ${JSON.stringify(raw)}.`, o.name);
      }
      options[o.name] = n;
    } else {
      options[o.name] = raw;
    }
    if (o.choices && !o.choices.includes(String(options[o.name]))) {
      throw usageError(
        `hitstate ${spec.name}: --${o.name} must be one of ${o.choices.join(', ')}, got ${JSON.stringify(raw)}.`,
        o.name,
      );
    }
  }
  const positionals = parsed.positionals;
  if (options.help !== true) {
    const required = (spec.positionals ?? []).filter((p) => p.required);
    if (positionals.length < required.length) {
      const missing = required[positionals.length]!;
      throw usageError(
        `hitstate ${spec.name}: missing argument ${missing.name.toUpperCase()} (${missing.description}). See \`hitstate ${spec.name} --help\`.`,
        missing.name,
      );
    }
    const max = spec.positionals?.length ?? 0;
    if (positionals.length > max) {
      throw usageError(
        `hitstate ${spec.name}: unexpected argument ${JSON.stringify(positionals[max])}. See \`hitstate ${spec.name} --help\`.`,
      );
    }
  }
  return { options, positionals };
}

/** The `--help` text of a command: usage, description, options with defaults and env, examples. */
export function formatHelp(spec: CommandSpec): string {
  const pos = (spec.positionals ?? [])
    .map((p) => (p.required ? p.name.toUpperCase() : `[${p.name.toUpperCase()}]`))
    .join(' ');
  const lines = [`Usage: hitstate ${spec.name}${pos ? ` ${pos}` : ''} [options]`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${p.name.toUpperCase().padEnd(24)} ${p.description}`);
  }
  lines.push('', 'Options:');
  for (const o of spec.options) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
    const extras = [
      o.choices ? `one of ${o.choices.join('|')}` : undefined,
      o.default !== undefined ? `default ${String(o.default)}` : undefined,
      o.env ? `env ${o.env}` : undefined,
    ].filter(Boolean);
    lines.push(`  ${flag.padEnd(24)} ${o.description}${extras.length ? ` (${extras.join('; ')})` : ''}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(24)} Show this help`);
  if (spec.examples.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}
