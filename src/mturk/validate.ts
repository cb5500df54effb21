/**
 * Input checks done before any call, reporting every problem at once (MTurk's own limits from
 * docs/stack-notes.md#limits-checked-before-a-call, which the SDK does not check client-side).
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** Collects problems with their field paths, then throws them all as one error. */
export class Problems {
  readonly #list: { field: string; message: string }[] = [];

  /** Records a problem when `bad` is true. */
  check(bad: boolean, field: string, message: string): this {
    if (bad) this.#list.push({ field, message });
    return this;
  }

  /** A text of `min` to `max` characters. */
  text(value: unknown, field: string, min: number, max: number): this {
    if (typeof value !== 'string') return this.check(true, field, `must be a string, got ${typeof value}`);
    return this.check(
      value.length < min || value.length > max,
      field,
      `must be ${min} to ${max} characters, got ${value.length}`,
    );
  }

  /** An integer in `[min, max]`. */
  integer(value: unknown, field: string, min: number, max: number): this {
    return this.check(
      !Number.isSafeInteger(value) || (value as number) < min || (value as number) > max,
      field,
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }

  /** A non-empty string (ids are checked by MTurk itself, which knows the environment's formats). */
  nonEmpty(value: unknown, field: string): this {
    return this.check(
      typeof value !== 'string' || value.length === 0,
      field,
      `must be a non-empty string, got ${JSON.stringify(value)}`,
    );
  }

  /**
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every problem, when there is any.
   */
  throwIfAny(what: string): void {
    if (this.#list.length === 0) return;
    const lines = this.#list.map((p) => `  ${p.field}: ${p.message}`).join('\n');
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `invalid ${what}:\n${lines}`, {
      field: this.#list[0]!.field,
      problems: [...this.#list],
    });
  }
}

/** Seconds in a day. */
export const DAY_SEC = 86_400;
