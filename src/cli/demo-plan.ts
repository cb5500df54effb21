/**
 * The crowd of `hitstate demo`, planned up front from the seed: who arrives when, what each
 * worker does (submit, return, walk away, or get refused by MTurk's qualification check), how
 * long they work and what they answer. The same seed gives the same plan.
 *
 * @module
 */
import { seededRandom } from '../random.js';

/** What a simulated worker of the demo does. */
export const DemoRole = {
  /** Accepts, works, submits a correct label with a comment. */
  diligent: 'diligent',
  /** Submits a label that contradicts the sentence (rejected in review). */
  careless: 'careless',
  /** Submits within seconds, no comment (soft-rejected: paid, marked low quality). */
  lazy: 'lazy',
  /** Submits a correct label with a thoughtful comment (gets a bonus). */
  thorough: 'thorough',
  /** Accepts, opens the task, then returns the HIT. */
  returner: 'returner',
  /** Accepts, opens the task, closes the tab and never comes back: the assignment lapses. */
  walker: 'walker',
  /** Has an 80% approval rate; MTurk refuses the HIT (the run requires 95%). */
  unqualified: 'unqualified',
} as const;
export type DemoRole = (typeof DemoRole)[keyof typeof DemoRole];

/** A sentence to label and its sentiment. */
export interface DemoSentence {
  readonly text: string;
  readonly sentiment: 'positive' | 'neutral' | 'negative';
}

/** One planned worker. */
export interface PlannedWorker {
  readonly role: DemoRole;
  /** When they arrive, in virtual ms after launch. */
  readonly arriveMs: number;
  /** How long they spend on the page before submitting or returning, in ms. */
  readonly workMs: number;
}

/** The whole plan. */
export interface DemoPlan {
  readonly units: number;
  readonly sentences: readonly DemoSentence[];
  readonly workers: readonly PlannedWorker[];
  /** Units nobody takes: they expire when the run ends. */
  readonly untouched: number;
  /** Submissions expected. */
  readonly submissions: number;
}

/** Approval rate of the unqualified worker, and the minimum the demo run requires. */
export const UNQUALIFIED_APPROVAL_RATE = 80;
export const REQUIRED_APPROVAL_RATE = 95;
/** The demo's assignment duration: a walker's assignment lapses this long after accepting. */
export const DEMO_ASSIGNMENT_SEC = 600;

const SENTENCES: readonly DemoSentence[] = [
  { text: 'The new library opened on time and the staff were wonderful.', sentiment: 'positive' },
  { text: 'The train was late again and nobody told us why.', sentiment: 'negative' },
  { text: 'The report is due on Thursday.', sentiment: 'neutral' },
  { text: 'I could not put this book down, what a story!', sentiment: 'positive' },
  { text: 'The soup was cold and the bread was stale.', sentiment: 'negative' },
  { text: 'The meeting moved to room 4B.', sentiment: 'neutral' },
  { text: 'Our team finally shipped the release, and it works beautifully.', sentiment: 'positive' },
  { text: 'The app crashes every time I open the settings page.', sentiment: 'negative' },
  { text: 'The museum is open from nine to five on weekdays.', sentiment: 'neutral' },
  { text: 'What a lovely surprise to see you here!', sentiment: 'positive' },
  { text: 'The hotel room smelled of smoke and the sheets were dirty.', sentiment: 'negative' },
  { text: 'The bus leaves from platform 3.', sentiment: 'neutral' },
  { text: 'The nurses were patient and kind the whole week.', sentiment: 'positive' },
  { text: 'I waited forty minutes and the order was still wrong.', sentiment: 'negative' },
  { text: 'The package weighs two kilograms.', sentiment: 'neutral' },
  { text: 'This is the best coffee I have had in years.', sentiment: 'positive' },
  { text: 'The printer jammed for the third time this morning.', sentiment: 'negative' },
  { text: 'Registration closes at the end of the month.', sentiment: 'neutral' },
  { text: 'The kids loved the science fair and want to go back.', sentiment: 'positive' },
  { text: 'The refund never arrived and support stopped answering.', sentiment: 'negative' },
];

/** The sentence of unit `index`. */
export function sentenceOf(index: number): DemoSentence {
  return SENTENCES[index % SENTENCES.length]!;
}

/**
 * Plans the crowd for `units` units: one unqualified worker, about one returner per ten units,
 * one walker per twenty, a careless, a lazy and a thorough worker among the submitters, and two
 * units nobody takes (so expiry shows) once there are ten or more.
 */
export function planDemo(units: number, seed: number): DemoPlan {
  const random = seededRandom(seed);
  const between = (min: number, max: number): number => Math.round(min + random() * (max - min));
  const untouched = units >= 10 ? 2 : units >= 5 ? 1 : 0;
  const submissions = units - untouched;
  const returners = units >= 3 ? Math.max(1, Math.round(units / 10)) : 0;
  const walkers = units >= 3 ? Math.max(1, Math.round(units / 20)) : 0;
  const special: DemoRole[] = [];
  if (submissions >= 3) special.push(DemoRole.careless);
  if (submissions >= 4) special.push(DemoRole.lazy);
  if (submissions >= 2) special.push(DemoRole.thorough);
  const submitters: DemoRole[] = [
    ...special,
    ...Array.from({ length: submissions - special.length }, () => DemoRole.diligent),
  ];
  // Shuffle the submitters, then put the returners and walkers among the first arrivals so their units get done later.
  for (let i = submitters.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [submitters[i], submitters[j]] = [submitters[j]!, submitters[i]!];
  }
  // Returners and walkers come among the first arrivals, while HITs are free, so the units they
  // leave get done by later submitters; with few units they come first of all.
  const leavers: DemoRole[] = Array.from({ length: returners + walkers }, (_, k) =>
    k < returners ? DemoRole.returner : DemoRole.walker,
  );
  const order: DemoRole[] = [...submitters];
  if (2 * leavers.length + 1 > units) order.unshift(...leavers);
  else
    leavers.forEach((role, k) => {
      order.splice(1 + 2 * k, 0, role);
    });

  const workers: PlannedWorker[] = [{ role: DemoRole.unqualified, arriveMs: 15_000, workMs: 0 }];
  let at = 30_000;
  for (const role of order) {
    const workMs =
      role === DemoRole.returner
        ? between(45_000, 100_000)
        : role === DemoRole.walker
          ? between(20_000, 60_000)
          : role === DemoRole.lazy
            ? between(6_000, 12_000)
            : between(70_000, 260_000);
    workers.push({ role, arriveMs: at, workMs });
    at += between(25_000, 55_000);
  }
  return { units, sentences: Array.from({ length: units }, (_, i) => sentenceOf(i)), workers, untouched, submissions };
}
