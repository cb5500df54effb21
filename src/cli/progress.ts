/**
 * The progress display of `hitstate run`, `resume`, `expire` and `demo`: a bar plus the number of
 * units in each state. On a terminal it is one line redrawn in place at the bottom, with event
 * lines scrolling above it; otherwise (a pipe, a CI log) it prints plain lines, at most one per
 * `plainIntervalMs` of the command's clock unless the run's status changed.
 *
 * @module
 */
import { UNIT_STATES, UnitTag, unitStatusesTagged, type AssignmentState } from '../../machines/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { CliIO } from './command.js';
import { stripAnsi, type Style } from './style.js';

/** States in which a unit's work is over (submitted, reviewed or expired): the filled part of the bar. */
const SETTLED: ReadonlySet<string> = new Set(unitStatusesTagged(UnitTag.settled));

/** What the bar shows. */
export interface ProgressState {
  /** The run's status (`launching`, `running`, `draining`...). */
  readonly status: string;
  readonly counts: Readonly<Record<AssignmentState, number>>;
}

/** Options of {@link ProgressView}. */
export interface ProgressOptions {
  readonly style: Style;
  /** The clock plain lines are throttled on (virtual in the demo). */
  readonly clock: Clock;
  /** The time shown at the start of each line. */
  readonly timeLabel: () => string;
  /** Least time between two plain progress lines with the same run status, in ms. @defaultValue 10000 */
  readonly plainIntervalMs?: number;
  /** Width of the bar in characters. @defaultValue 20 */
  readonly barWidth?: number;
}

/** Units by state, non-zero ones only: `launched 5 · assigned 4 · completed 9`. */
export function describeCounts(counts: Readonly<Record<AssignmentState, number>>, separator = ' · '): string {
  const parts = UNIT_STATES.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${s.replace('_', '-')} ${counts[s]}`);
  return parts.length > 0 ? parts.join(separator) : 'no units';
}

/** Draws run progress to a {@link CliIO}. */
export class ProgressView {
  readonly #io: CliIO;
  readonly #options: ProgressOptions;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  #last: ProgressState | undefined;
  #printed: string | undefined;
  #printedStatus: string | undefined;
  #printedAt = -Infinity;
  #drawn = '';
  #closed = false;
  /** A plain line held back by the throttle, printed when its interval is over. */
  #pending: TimerHandle | undefined;

  constructor(io: CliIO, options: ProgressOptions) {
    this.#io = io;
    this.#options = options;
    this.#tty = io.isTTY;
    this.#intervalMs = options.plainIntervalMs ?? 10_000;
  }

  /** The line for a state, as printed (colours included when on). */
  render(state: ProgressState): string {
    const { style } = this.#options;
    const total = UNIT_STATES.reduce((n, s) => n + (state.counts[s] ?? 0), 0);
    const settled = UNIT_STATES.filter((s) => SETTLED.has(s)).reduce((n, s) => n + (state.counts[s] ?? 0), 0);
    const width = this.#options.barWidth ?? 20;
    const filled = total === 0 ? 0 : Math.round((settled / total) * width);
    const bar = this.#tty
      ? `${style.green('█'.repeat(filled))}${style.dim('░'.repeat(width - filled))}`
      : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const done = `${String(settled).padStart(String(total).length)}/${total}`;
    return `${style.dim(this.#options.timeLabel())}  ${state.status.padEnd(9)} ${bar} ${done}  ${describeCounts(state.counts)}`;
  }

  /** Shows a new state: redrawn at once on a terminal, printed as a line when due otherwise. */
  update(state: ProgressState): void {
    if (this.#closed) return;
    this.#last = state;
    const line = this.render(state);
    if (this.#tty) {
      // A change of the run's status stays on screen as its own line; counts are redrawn in place.
      if (state.status !== this.#printedStatus) {
        this.#printedStatus = state.status;
        this.log(line);
      }
      this.#draw(line);
      return;
    }
    const changed = stripAnsi(line).replace(/^\S+\s+/, '') !== this.#printed;
    const waitMs =
      state.status !== this.#printedStatus ? 0 : this.#printedAt + this.#intervalMs - this.#options.clock.now();
    if (!changed) return;
    if (waitMs <= 0) this.#print(state, line);
    else
      this.#pending ??= this.#options.clock.setTimeout(() => {
        this.#pending = undefined;
        if (!this.#closed && this.#last !== undefined) this.update(this.#last);
      }, waitMs);
  }

  /** Prints an event line (above the bar on a terminal). */
  log(line: string): void {
    if (this.#closed) {
      this.#io.out(`${line}\n`);
      return;
    }
    if (this.#tty) {
      this.#io.out(`\r\u001b[2K${line}\n${this.#drawn}`);
      return;
    }
    this.#io.out(`${line}\n`);
  }

  /** Leaves the latest state on screen as a permanent line and stops drawing. */
  close(): void {
    if (this.#closed) return;
    if (this.#pending !== undefined) this.#options.clock.clearTimeout(this.#pending);
    this.#pending = undefined;
    if (this.#tty) {
      if (this.#drawn !== '') this.#io.out('\n');
    } else if (this.#last !== undefined) {
      const line = this.render(this.#last);
      if (stripAnsi(line).replace(/^\S+\s+/, '') !== this.#printed) this.#print(this.#last, line);
    }
    this.#closed = true;
  }

  #print(state: ProgressState, line: string): void {
    this.#io.out(`${line}\n`);
    this.#printed = stripAnsi(line).replace(/^\S+\s+/, '');
    this.#printedStatus = state.status;
    this.#printedAt = this.#options.clock.now();
  }

  #draw(line: string): void {
    const columns = this.#io.columns;
    const fitted =
      columns !== undefined && columns > 20 && stripAnsi(line).length >= columns
        ? this.#truncate(line, columns - 1)
        : line;
    if (fitted === this.#drawn) return;
    this.#drawn = fitted;
    this.#io.out(`\r\u001b[2K${fitted}`);
  }

  /** Cuts a line to `width` visible characters, keeping escape sequences whole. */
  #truncate(line: string, width: number): string {
    let visible = 0;
    let out = '';
    for (const part of line.split(/(\u001b\[[0-9;?]*[A-Za-z])/)) {
      if (part.startsWith('\u001b[')) {
        out += part;
        continue;
      }
      const room = width - visible;
      if (room <= 0) continue;
      out += part.slice(0, room);
      visible += Math.min(room, part.length);
    }
    return `${out}\u001b[0m`;
  }
}
