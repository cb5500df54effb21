// What the code relies on must live in the repository: a comment or a doc that cites a document a
// reader of the repository does not have, or a docs/ link whose file or heading does not exist, fails
// here. The documents that replaced the outside ones are docs/mephisto-semantics.md (Mephisto's unit
// table, its row codes and the numbered lessons) and docs/stack-notes.md (library and MTurk API facts).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { commentsOf, type Fragment } from '../support/source-text.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SELF = 'test/foundation/citations.test.ts';

/** The lines of a Markdown file outside fenced code blocks. */
function proseOf(markdown: string): Fragment[] {
  let fenced = false;
  return markdown.split('\n').flatMap((text, k) => {
    if (/^\s*(```|~~~)/.test(text)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ line: k + 1, text }];
  });
}

/** GitHub's anchor for a heading: rendered text, lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers: its headings (numbered as GitHub numbers repeats) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) {
      const base = slug(heading[1]!);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const id of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1]!);
  }
  return anchors;
}

/** Names of documents that live outside the repository, and how to cite instead. */
const OUTSIDE: ReadonlyArray<{ pattern: RegExp; fix: string }> = [
  { pattern: /§/, fix: 'section signs point into documents outside the repository: cite docs/<page>.md#<heading>' },
  { pattern: /(?<![\w/-])mephisto-semantics\b/, fix: 'cite docs/mephisto-semantics.md#<heading>' },
  { pattern: /(?<![\w/-])stack-notes\b/, fix: 'cite docs/stack-notes.md#<heading>' },
  { pattern: /\bmturk-api(-facts)?(\.md)?\b/, fix: 'the MTurk API facts the code uses are in docs/stack-notes.md' },
  { pattern: /\bARCHITECTURE\b/, fix: 'cite docs/architecture.md' },
  { pattern: /\bSTYLE\.md\b/, fix: 'the style rules that matter belong in docs/ or biome.json' },
  { pattern: /\bpeers-and-user-needs\b/, fix: 'write what matters into docs/' },
  {
    pattern: /(\.\.\/|\/work\/)shared\b|\bshared\/(docs|reference)\b/,
    fix: 'nothing outside the repository may be cited',
  },
];

/** Mephisto's row codes (docs/mephisto-semantics.md#the-unit-table). */
const ROW_CODE = /\b(C1|T1|R[1-4]|L[12]|H[1-6]|M[1-6])\b/;
/** A pull request named by number ("PR #410", "PRs #347/#902"): Mephisto's unless a repo is named. */
const PULL_REQUEST = /\bPRs? #(\d+)/g;
const SEMANTICS = 'docs/mephisto-semantics.md';

interface Finding {
  file: string;
  line: number;
  problem: string;
}

/** The problems of one file's text: citations of outside documents, and row codes or PRs with no source. */
export function outsideCitations(file: string, content: string): Finding[] {
  const isDoc = file.endsWith('.md');
  const fragments = /\.(ts|mts|cts|js|mjs|cjs)$/.test(file)
    ? commentsOf(content)
    : isDoc
      ? proseOf(content)
      : content.split('\n').map((text, k) => ({ line: k + 1, text }));
  // A file that cites the semantics page explains its row codes and PR numbers; so does the page itself.
  const citesSemantics =
    file === SEMANTICS ||
    fragments.some((f) => f.text.includes(SEMANTICS) || (isDoc && /\]\((\.\/)?mephisto-semantics\.md/.test(f.text)));
  const findings: Finding[] = [];
  for (const { line, text } of fragments) {
    // Repo paths and Markdown links to the repo's own pages are fine; check what is left.
    const rest = text
      .replace(/(?<![\w./-])docs\/[\w./-]+\.md(#[\w-]+)?/g, '')
      .replace(/\[[^\]]*\]\((\.\/)?[\w-]+\.md(#[\w-]+)?\)/g, '[…]');
    for (const { pattern, fix } of OUTSIDE) {
      if (pattern.test(rest)) findings.push({ file, line, problem: `${text.trim()}\n    → ${fix}` });
    }
    if (!citesSemantics && ROW_CODE.test(rest)) {
      findings.push({
        file,
        line,
        problem: `${text.trim()}\n    → row codes are defined in ${SEMANTICS}#the-unit-table: cite it`,
      });
    }
    if (!citesSemantics && /\bPRs? #\d+/.test(rest) && !/github\.com/.test(text)) {
      findings.push({
        file,
        line,
        problem: `${text.trim()}\n    → say where the PR is: cite ${SEMANTICS}#known-bugs-and-lessons`,
      });
    }
  }
  return findings;
}

/** Every `docs/x.md#anchor` path, and in Markdown every relative link, that does not resolve. */
export function brokenLinks(file: string, content: string, read: (path: string) => string | undefined): Finding[] {
  const findings: Finding[] = [];
  const check = (line: number, target: string, anchor: string | undefined, from: string): void => {
    const page = read(target);
    if (page === undefined) findings.push({ file, line, problem: `${from}: ${target} does not exist` });
    else if (anchor !== undefined && !anchorsOf(page).has(anchor)) {
      findings.push({ file, line, problem: `${from}: ${target} has no heading with the anchor #${anchor}` });
    }
  };
  const lines = file.endsWith('.md') ? proseOf(content) : content.split('\n').map((text, k) => ({ line: k + 1, text }));
  for (const { line, text } of lines) {
    for (const m of text.matchAll(/(?<![\w./-])docs\/([\w./-]+\.md)(?:#([\w-]+))?/g)) {
      check(line, `docs/${m[1]}`, m[2], m[0]);
    }
    if (!file.endsWith('.md')) continue;
    for (const m of text.matchAll(/\]\(([^)\s]*)\)/g)) {
      const href = m[1]!;
      if (/^[a-z]+:/i.test(href) || href === '') continue;
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      if (path !== '' && !path.endsWith('.md')) {
        if (read(target) === undefined && !existsSync(join(root, target))) {
          findings.push({ file, line, problem: `${href}: ${target} does not exist` });
        }
        continue;
      }
      check(line, target, anchor, href);
    }
  }
  return findings;
}

function filesUnder(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [dir];
  return readdirSync(abs).flatMap((name) =>
    name === 'node_modules' || name === 'dist' || name.startsWith('.tmp') ? [] : filesUnder(join(dir, name)),
  );
}

const TEXT = /\.(ts|mts|cts|js|mjs|cjs|md|html|css)$|^\.ci\/run$/;
const repoFiles = ['README.md', 'src', 'machines', 'test', 'bench', 'examples', 'docs', '.ci']
  .flatMap(filesUnder)
  .map((f) => relative(root, join(root, f)))
  .filter((f) => TEXT.test(f) && f !== SELF && !f.startsWith('docs/machines/'));

const cache = new Map<string, string | undefined>();
const readRepo = (path: string): string | undefined => {
  if (!cache.has(path)) {
    const abs = join(root, path);
    cache.set(path, existsSync(abs) && statSync(abs).isFile() ? readFileSync(abs, 'utf8') : undefined);
  }
  return cache.get(path);
};

const report = (findings: Finding[]): string => findings.map((f) => `${f.file}:${f.line}: ${f.problem}`).join('\n');

const Checker = suite('citations: the checker');

Checker('when headings are turned into anchors then they match GitHub’s', () => {
  assert.is(slug('`hitstate run CONFIG`'), 'hitstate-run-config');
  assert.is(slug('Return, timeout and disconnect'), 'return-timeout-and-disconnect');
  assert.is(slug("Mephisto's datastore"), 'mephistos-datastore');
  assert.is(slug('Testing your own task: `hitstate/testing`'), 'testing-your-own-task-hitstatetesting');
  assert.is(slug('`MTurkUnit.get_status()` rows'), 'mturkunitget_status-rows');
  assert.is(slug('[The unit table](#x) and **more**'), 'the-unit-table-and-more');
  const anchors = anchorsOf('# A\n## Limits\n```\n## Not a heading\n```\n### Limits\n<a id="lesson-7"></a>\n');
  assert.equal([...anchors], ['a', 'limits', 'limits-1', 'lesson-7']);
});

Checker('when a comment is read then strings, templates and regular expressions are not comments', () => {
  const src = [
    "const url = 'http://x/y'; // one",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text under test has a template literal.
    'const t = `a ${"//"} b ${`c // d`}`; /* two',
    'three */ const r = /\\/\\/[\'"]/g; // four',
  ].join('\n');
  assert.equal(
    commentsOf(src).map((c) => [c.line, c.text.trim()]),
    [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [3, 'four'],
    ],
  );
});

Checker('when planted citations of outside documents are checked then each is found with its fix', () => {
  const planted = [
    '// An agent child must not take the unit down (stack-notes §0 #4).',
    '/** The HIT pool (Mephisto §0.2), see ../shared/docs/ARCHITECTURE.md. */',
    '// MTurk limits (mturk-api.md §2.3).',
    '// H1 while working: maybe a return, maybe the flicker (PR #410).',
    "const title = 'stack-notes §0 #4 in a string is code, not a comment';",
  ].join('\n');
  const found = outsideCitations('src/x.ts', planted);
  assert.equal(
    found.map((f) => f.line),
    [1, 1, 2, 2, 2, 3, 3, 4, 4],
  );
  assert.match(report(found), 'cite docs/stack-notes.md#<heading>');
});

Checker('when citations name repo paths then they pass, and a missing file or heading is found', () => {
  const good = [
    '// An agent child must not take the unit down (docs/stack-notes.md#child-errors-and-the-parent).',
    '// H1 while working, the flicker of PR #410 (docs/mephisto-semantics.md#merge-rules).',
  ].join('\n');
  assert.equal(outsideCitations('src/x.ts', good), []);
  assert.equal(brokenLinks('src/x.ts', good, readRepo), []);
  const bad = '// See docs/nope.md and docs/stack-notes.md#no-such-heading.\n';
  assert.equal(
    brokenLinks('src/x.ts', bad, readRepo).map((f) => f.problem),
    [
      'docs/nope.md: docs/nope.md does not exist',
      'docs/stack-notes.md#no-such-heading: docs/stack-notes.md has no heading with the anchor #no-such-heading',
    ],
  );
  const doc = 'See [the table](mephisto-semantics.md#the-unit-table) and [gone](machines.md#gone).\n';
  assert.equal(
    brokenLinks('docs/x.md', doc, readRepo).map((f) => f.problem),
    ['machines.md#gone: docs/machines.md has no heading with the anchor #gone'],
  );
});

const Repo = suite('citations: the repository');

Repo('when the repository is scanned then it has files of every kind to check', () => {
  for (const prefix of ['src/', 'machines/', 'test/', 'docs/']) {
    assert.ok(
      repoFiles.some((f) => f.startsWith(prefix)),
      `no file under ${prefix}: the scan is broken`,
    );
  }
});

Repo('when a comment or doc cites a document then that document is in the repository', () => {
  const findings = repoFiles.flatMap((f) => outsideCitations(f, readRepo(f) ?? ''));
  assert.equal(findings.length, 0, `cite repo paths instead:\n${report(findings)}`);
});

Repo('when a comment, doc or message names docs/…md#anchor then the file and heading exist', () => {
  const findings = repoFiles.flatMap((f) => brokenLinks(f, readRepo(f) ?? '', readRepo));
  assert.equal(findings.length, 0, `fix these links:\n${report(findings)}`);
});

Repo('when a Mephisto PR or issue is cited anywhere then docs/mephisto-semantics.md links it', () => {
  const semantics = readRepo(SEMANTICS) ?? '';
  const linked = new Set([...semantics.matchAll(/Mephisto\/(?:pull|issues)\/(\d+)/g)].map((m) => m[1]!));
  const missing = repoFiles.flatMap((file) => {
    const text = readRepo(file) ?? '';
    return [...text.matchAll(PULL_REQUEST)]
      .filter(
        (m) =>
          !linked.has(m[1]!) && !/\w+\/\w+ PR #\d+$/.test(text.slice(Math.max(0, m.index - 40), m.index + m[0].length)),
      )
      .map((m) => `${file}: PR #${m[1]}`);
  });
  assert.equal(missing, [], `add a link for each to ${SEMANTICS}#known-bugs-and-lessons:\n${missing.join('\n')}`);
});

Checker.run();
Repo.run();
