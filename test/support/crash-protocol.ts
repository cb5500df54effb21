// The IPC messages between the crash harness (parent: simulator, workers, kills) and its child
// (a runtime running one task run, on a virtual clock the parent moves).
import type { TaskRunConfig } from '../../src/config/task-run.js';
import type { ReviewAction, ReviewTarget } from '../../src/runtime/money/review.js';
import type { TaskRunInfo } from '../../src/runtime/core/run-info.js';

/** What the child is started with (JSON in the environment variable `HITSTATE_CRASH_CHILD`). */
export interface ChildSetup {
  readonly storeDir: string;
  readonly simUrl: string;
  readonly accessKeyId: string;
  /** The virtual time to start at (the parent's now). */
  readonly startMs: number;
  /**
   * `launch` the run (first start), `resume` it (a restart), or `load`: open a runtime and resume
   * nothing, the run being loaded by the first request, as a fresh `hitstate review` process does.
   */
  readonly mode: 'launch' | 'resume' | 'load';
  readonly runId: string;
  readonly config: TaskRunConfig;
  /** The task server's signing secret (stable across restarts). */
  readonly secret: string;
}

/** Parent → child. */
export type ParentMessage =
  | { readonly type: 'advanceTo'; readonly ms: number }
  | { readonly type: 'review'; readonly target: ReviewTarget; readonly action: ReviewAction }
  | { readonly type: 'expire' }
  | { readonly type: 'close' };

/** What the child reports after each request. */
export interface ChildState {
  readonly now: number;
  /** The child clock's next timer, if any. */
  readonly nextTimerAt: number | null;
  readonly info: TaskRunInfo;
  /** Agent id → status, for the run's agents. */
  readonly agents: Readonly<Record<string, string>>;
  /** Agent id → bonuses MTurk confirmed (confirmed bonus intents). */
  readonly bonuses: Readonly<Record<string, number>>;
}

/** Child → parent. */
export type ChildMessage =
  | { readonly type: 'ready'; readonly port: number; readonly taskPath: string; readonly state: ChildState }
  | { readonly type: 'state'; readonly state: ChildState }
  /** The review was sent to the agents (not waited for: MTurk's answers arrive as time moves). */
  | { readonly type: 'reviewed'; readonly outcomes: readonly string[]; readonly state: ChildState }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };
