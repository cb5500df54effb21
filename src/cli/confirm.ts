/**
 * Confirmations of commands that spend money: a question through {@link CliIO.ask} on a terminal,
 * a flag otherwise (`--yes`), and on live MTurk an amount (`--yes-live=AMOUNT`, or
 * `HITSTATE_YES_LIVE=AMOUNT` / `RUN:AMOUNT`) that confirms spending up to that much in this one
 * command, never a permanent yes.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import { formatUsd, toCents } from '../mturk/money.js';
import type { StoreEnvironment } from '../store/index.js';
import { usageError, type CliIO, type OptionSpec, type OptionValues } from './command.js';
import { dollars } from './money-summary.js';

/** `--yes`: confirm without being asked. */
export const YES_OPTION: OptionSpec = {
  name: 'yes',
  type: 'boolean',
  description: 'Confirm without being asked (needed when there is no terminal to ask)',
};

/** `--yes-live AMOUNT`: confirms spending up to AMOUNT on live MTurk, in this command only. */
export const YES_LIVE_OPTION: OptionSpec = {
  name: 'yes-live',
  type: 'string',
  value: 'AMOUNT',
  description:
    'On live MTurk: confirm spending up to AMOUNT dollars in this command (a bigger total is refused); the variable takes AMOUNT or RUN:AMOUNT',
  env: 'HITSTATE_YES_LIVE',
};

/**
 * Asks `question` on a terminal (the answer must be `yes`), or takes `yes`; anything else refuses.
 *
 * @throws HitstateError `HST_ERR_CLI_NOT_CONFIRMED` with `refusal` and how to confirm.
 */
export async function confirmOrRefuse(
  io: CliIO,
  options: { readonly question: string; readonly yes: boolean; readonly refusal: string; readonly field?: string },
): Promise<void> {
  if (options.yes) return;
  const answer = await io.ask(`${options.question} Type yes to go on: `);
  if (answer?.toLowerCase() === 'yes') return;
  throw new HitstateError(
    'HST_ERR_CLI_NOT_CONFIRMED',
    `${options.refusal}; ${answer === undefined ? 'there is no terminal to ask: run again with --yes once you checked it' : 'not confirmed (the answer was not yes); nothing was sent'}.`,
    { field: options.field ?? 'yes' },
  );
}

/** The amount `--yes-live` (or `HITSTATE_YES_LIVE`) confirms for this command and run, in cents; undefined when none. */
export function liveAmountOf(options: OptionValues, runId: string | undefined): number | undefined {
  const raw = options['yes-live'];
  if (raw === undefined || raw === false || raw === '') return undefined;
  const text = String(raw).trim();
  const scoped = /^([A-Za-z0-9._-]+):(.+)$/.exec(text);
  // A RUN:AMOUNT value confirms only for that run: any other command or run is not confirmed by it.
  if (scoped !== null && scoped[1] !== runId) return undefined;
  const amount = scoped === null ? text : scoped[2]!;
  if (!/^\d+(\.\d{1,2})?$/.test(amount))
    throw usageError(
      `--yes-live (or HITSTATE_YES_LIVE) must be the dollar amount you confirm spending on live, like --yes-live=12.00 (the variable also takes RUN:AMOUNT), got ${JSON.stringify(text)}.`,
      'yes-live',
    );
  return toCents(amount, 'yes-live');
}

/**
 * On live MTurk, confirms spending up to `totalCents` in this command: `--yes-live=AMOUNT` with
 * AMOUNT at least the total, or the total typed at the terminal. Anything else is refused with the
 * amount to confirm. Other environments need nothing.
 *
 * @throws HitstateError `HST_ERR_CLI_LIVE_NOT_CONFIRMED`, `HST_ERR_CLI_USAGE` for a malformed amount.
 */
export async function confirmLive(
  io: CliIO,
  env: StoreEnvironment,
  options: OptionValues,
  request: { readonly totalCents: number; readonly what: string; readonly runId?: string },
): Promise<void> {
  if (env.kind !== 'live' || request.totalCents <= 0) return;
  const total = formatUsd(request.totalCents);
  const confirmed = liveAmountOf(options, request.runId);
  if (confirmed !== undefined) {
    if (confirmed >= request.totalCents) return;
    throw new HitstateError(
      'HST_ERR_CLI_LIVE_NOT_CONFIRMED',
      `${request.what} would spend up to ${dollars(request.totalCents)} of real money on live MTurk, more than the ${dollars(confirmed)} --yes-live (or HITSTATE_YES_LIVE) confirms. Check the amount, then run again with --yes-live=${total}. Nothing was sent.`,
      { field: 'yes-live' },
    );
  }
  const answer = await io.ask(
    `${request.what} spends up to ${dollars(request.totalCents)} of real money on live MTurk. Type ${total} to go on: `,
  );
  if (answer !== undefined && answer.replace(/^\$/, '') === total) return;
  throw new HitstateError(
    'HST_ERR_CLI_LIVE_NOT_CONFIRMED',
    `${request.what} would spend up to ${dollars(request.totalCents)} of real money on live MTurk${answer === undefined ? '' : ' and the answer was not that amount'}. Check it, then run again with --yes-live=${total}. Nothing was sent.`,
    { field: 'yes-live' },
  );
}
