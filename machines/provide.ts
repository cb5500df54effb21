/**
 * Wiring the runtime's command handler into the machines.
 *
 * @module
 */
import type { Command } from './commands.js';
import type { taskRunMachine } from './task-run.js';
import { supervisedGroupMachine } from './task-run-setup.js';
import { groupedUnitMachine } from './unit-group.js';
import { unitAgentMachine } from './unit-setup.js';

/**
 * Receives every command any machine of a run issues. Called synchronously while the actor
 * transitions, so it must not throw and must not wait: record the command (e.g. push it to an
 * outbox) and perform it asynchronously, then send the result event to the supervisor.
 */
export type CommandHandler = (command: Command) => void;

/**
 * The taskRun machine with `handler` provided for its own command and for every command of the
 * units and agents below it (their reports to their parents are kept).
 *
 * @example
 * ```ts
 * const logic = withCommandHandler(taskRunMachine, (command) => outbox.enqueue(command));
 * const run = createActor(logic, { input: { runId: 'r1', unitIds: ['u1'] } }).start();
 * // after a restore, re-issue what the actors were waiting on:
 * for (const command of pendingCommandsOfRun(run.getPersistedSnapshot())) outbox.enqueue(command);
 * ```
 */
export function withCommandHandler(machine: typeof taskRunMachine, handler: CommandHandler): typeof taskRunMachine {
  const agent = unitAgentMachine.provide({
    actions: {
      approveAssignment: (_args, command) => handler(command),
      rejectAssignment: (_args, command) => handler(command),
      softRejectAssignment: (_args, command) => handler(command),
      sendBonus: (_args, command) => handler(command),
    },
  });
  const unit = groupedUnitMachine.provide({
    actors: { agent },
    actions: {
      launchHIT: (_args, command) => handler(command),
      expireHIT: (_args, command) => handler(command),
      confirmHIT: (_args, command) => handler(command),
      reconcileSubmission: (_args, command) => handler(command),
    },
  });
  return machine.provide({
    actors: { group: supervisedGroupMachine.provide({ actors: { unit } }) },
    actions: { setUpResources: (_args, command) => handler(command) },
  });
}
