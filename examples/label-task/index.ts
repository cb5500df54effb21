/**
 * The label task: a small sentiment-labelling form used by the demo and the task-server tests.
 * Each unit's task data is `{ text }`; a submission is `{ sentiment, comment }`.
 *
 * @example
 * ```ts
 * import { labelTask } from './examples/label-task/index.js';
 * const server = createTaskServer(backend, { secret, ...labelTask.serverOptions });
 * ```
 *
 * @module
 */

/** Task data of one unit. */
export interface LabelTaskData {
  readonly text: string;
}

/** The sentiments a worker can choose. */
export const Sentiment = { positive: 'positive', neutral: 'neutral', negative: 'negative' } as const;
export type Sentiment = (typeof Sentiment)[keyof typeof Sentiment];

/** What the form submits. */
export interface LabelSubmission {
  readonly sentiment: Sentiment;
  readonly comment: string;
}

/** True when `value` has the shape of a label task submission. */
export function isLabelSubmission(value: unknown): value is LabelSubmission {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Object.values(Sentiment).includes(v.sentiment as Sentiment) && typeof v.comment === 'string';
}

/** Sentences for units of a demo run. */
export const SAMPLE_SENTENCES: readonly string[] = Object.freeze([
  'The new library opened on time and the staff were wonderful.',
  'The train was late again and nobody told us why.',
  'The report is due on Thursday.',
  'I could not put this book down, what a story!',
  'The soup was cold and the bread was stale.',
  'The meeting moved to room 4B.',
]);

/** Everything `createTaskServer` needs to serve the label task (besides `secret`). */
export const labelTask = Object.freeze({
  serverOptions: Object.freeze({
    taskPage: new URL('./task.html', import.meta.url),
    // The task page doubles as the preview: the wrapper reports isPreview and the form stays disabled.
    previewPage: new URL('./task.html', import.meta.url),
    assetsDir: new URL('./assets/', import.meta.url),
    title: 'Label the sentiment of a sentence',
  }),
  /** Unit task data for `n` units (cycling through the sample sentences). */
  units(n: number): LabelTaskData[] {
    return Array.from({ length: n }, (_, i) => ({ text: SAMPLE_SENTENCES[i % SAMPLE_SENTENCES.length]! }));
  },
});
