/**
 * Colour and in-place drawing for the `hitstate` command, decided once per command from its
 * {@link CliIO}: `NO_COLOR` (any non-empty value) turns colour off, `FORCE_COLOR` (`0`/`false`
 * off, anything else on) overrides, otherwise colour follows whether stdout is a terminal. In-place
 * redrawing (the progress bar) needs a terminal whatever the colour setting.
 *
 * @module
 */
import type { CliIO } from './command.js';

/** Text decorations; each returns its input unchanged when colour is off. */
export interface Style {
  readonly color: boolean;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** Whether the command's output gets ANSI colours. */
export function colorEnabled(io: Pick<CliIO, 'env' | 'isTTY'>): boolean {
  const noColor = io.env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !/^(0|false|no)$/i.test(force);
  return io.isTTY;
}

const wrap =
  (on: boolean, open: number, close: number) =>
  (text: string): string =>
    on ? `\u001b[${open}m${text}\u001b[${close}m` : text;

/** The style of a command's output. */
export function styleFor(io: Pick<CliIO, 'env' | 'isTTY'>): Style {
  const on = colorEnabled(io);
  return {
    color: on,
    bold: wrap(on, 1, 22),
    dim: wrap(on, 2, 22),
    green: wrap(on, 32, 39),
    red: wrap(on, 31, 39),
    yellow: wrap(on, 33, 39),
    cyan: wrap(on, 36, 39),
  };
}

/** Removes ANSI escape sequences (for measuring and for tests). */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}
