/**
 * Wiring the runtime's command handler into the machines.
 *
 * @module
 */
import type { Command } from './commands.js';
import { supervisedAgentMachine, supervisedUnitMachine } from './task-run-setup.js';
import type { taskRunMachine } from './task-run.js';

/**
 * Receives every command any machine of a run issues. Called synchronously while the actor
 * transitions, so it must not throw and must not wait: record the command (e.g. push it to an
 * outbox) and perform it asynchronously, then send the result event to the supervisor.
 */
export type CommandHandler = (command: Command) => void;

/**
 * The taskRun machine with `handler` provided for its own command and for every command of the
 * units and agents it spawns (their reports to the supervisor are kept).
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
  const unit = supervisedUnitMachine.provide({
    actions: {
      launchHIT: (_args, command) => handler(command),
      expireHIT: (_args, command) => handler(command),
      confirmHIT: (_args, command) => handler(command),
      reconcileSubmission: (_args, command) => handler(command),
    },
  });
  const agent = supervisedAgentMachine.provide({
    actions: {
      approveAssignment: (_args, command) => handler(command),
      rejectAssignment: (_args, command) => handler(command),
      softRejectAssignment: (_args, command) => handler(command),
      sendBonus: (_args, command) => handler(command),
    },
  });
  return machine.provide({
    actors: { unit, agent },
    actions: { setUpResources: (_args, command) => handler(command) },
  });
}
