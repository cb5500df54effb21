/**
 * The three machines by name, in the order docs and diagrams present them.
 *
 * @module
 */
import { agentMachine } from './agent.js';
import { taskRunMachine } from './task-run.js';
import { unitMachine } from './unit.js';

/** The machines by the name the store and the viz command use. */
export const MACHINES = Object.freeze({ unit: unitMachine, agent: agentMachine, taskRun: taskRunMachine });
