// Comments, descriptions and messages in the repository cite only what a cloner has: docs/, the
// paper, public code. The design notes, reference summaries and simulator spec these files were
// written from (L3M-REFERENCE.md, SIMULATOR.md, DESIGN.md, STYLE.md, a sibling ../shared/ folder)
// and the tracker's issue numbers live outside the repository, so a pointer to them leads nowhere:
// the comment states the reason itself, or links to docs/<page>.md#<anchor>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const self = 'test/unit/no_outside_citations.test.ts';

interface Rule {
  what: string;
  pattern: RegExp;
}

// Each pattern is global so that every mention on a line is reported.
const rules: Rule[] = [
  {
    what: 'a note outside the repository (point at docs/ instead)',
    pattern: /\b(?:L3M-REFERENCE|SIMULATOR|DESIGN|STYLE)\.md\b/g,
  },
  { what: 'the reference folder outside the repository (point at docs/ instead)', pattern: /\bshared\/reference\b/g },
  { what: 'an issue number (state the reason itself)', pattern: /\b[Ii]ssue #?\d+/g },
  { what: "the issue's text (state the reason itself)", pattern: /\bthe issue's\b/g },
  // The paper is cited as "Sec. N" or "Eq. N"; a bare § numbers a section of one of the notes above.
  {
    what: "a section of a note outside the repository (cite the paper as 'Sec. N', docs/ by anchor)",
    pattern: /§\s?(?:\d|App)/g,
  },
];

/** Tracked files a cloner reads as code or prose: all but docs/ (which these rules point to), the lock file and this test. */
function trackedFiles(): string[] {
  let listing: string;
  try {
    listing = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(
      `no_outside_citations: could not list the tracked files with \`git ls-files\` in ${root} (${String(error)}); run the test from a git checkout of L3M Studio.`,
      { cause: error },
    );
  }
  return listing
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('docs/') && file !== 'package-lock.json' && file !== self);
}

/** True when a tracked file is at `path`, or one is found by a module specifier that names it without extension or as a folder. */
function isTracked(tracked: ReadonlySet<string>, path: string): boolean {
  if (tracked.has(path)) return true;
  for (const suffix of ['.ts', '.mts', '.mjs', '.js', '.json', '.css', '/index.ts'])
    if (tracked.has(path + suffix)) return true;
  for (const file of tracked) if (file.startsWith(`${path}/`)) return true;
  return false;
}

/**
 * Mentions of "../shared/…" that lead out of the repository or to nothing tracked in it. In-repo
 * imports such as webview/inspector/main.ts's '../shared/chart' resolve to a tracked file and pass.
 */
function outsideSharedPaths(file: string, line: string, tracked: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const match of line.matchAll(/(?:\.\.\/)+shared\/[\w.\-/]*/g)) {
    const mention = match[0].replace(/[./]+$/, '');
    const resolved = posix.normalize(posix.join(posix.dirname(file), mention));
    if (resolved.startsWith('../') || !isTracked(tracked, resolved)) found.push(match[0]);
  }
  return found;
}

/** Every offending mention in the tracked files, as "file:line: mention: what to do". */
function outsideCitations(): string[] {
  const files = trackedFiles();
  const tracked = new Set(files);
  const problems: string[] = [];
  for (const file of files) {
    const bytes = readFileSync(join(root, file));
    if (bytes.includes(0)) continue; // binary: weights, images
    problems.push(...citationsIn(file, bytes.toString('utf8'), tracked));
  }
  return problems;
}

/** The offending mentions in one file's text, as "file:line: mention: what to do". */
function citationsIn(file: string, text: string, tracked: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    const at = `${file}:${index + 1}`;
    for (const { what, pattern } of rules) {
      for (const match of line.matchAll(pattern)) problems.push(`${at}: "${match[0]}": ${what}`);
    }
    for (const mention of outsideSharedPaths(file, line, tracked)) {
      problems.push(`${at}: "${mention}": a path outside the repository or to nothing in it (point at docs/ instead)`);
    }
  });
  return problems;
}

test('no tracked file outside docs/ cites notes outside the repository or issue numbers', () => {
  const problems = outsideCitations();
  assert.deepEqual(
    problems,
    [],
    `${problems.length} citation(s) a cloner cannot follow:\n${problems.join('\n')}\n` +
      'Replace each with a link to docs/<page>.md#<anchor> (check the anchor exists), or with the reason itself.',
  );
});

test('the ../shared/ rule tells an in-repo import from a path out of the repository', () => {
  const tracked = new Set([
    'webview/shared/chart.ts',
    'webview/inspector/main.ts',
    'sidecar/tasks/shared/connectors.ts',
  ]);
  assert.deepEqual(
    outsideSharedPaths('webview/inspector/main.ts', "import { Chart } from '../shared/chart';", tracked),
    [],
  );
  assert.deepEqual(outsideSharedPaths('sidecar/tasks/generation/x.ts', "from '../shared/connectors'", tracked), []);
  assert.deepEqual(outsideSharedPaths('examples/README.md', 'see `../shared/reference/NOTES.md`', tracked), [
    '../shared/reference/NOTES.md',
  ]);
  assert.deepEqual(outsideSharedPaths('README.md', 'at ../shared/STYLE', tracked), ['../shared/STYLE']);
});

test('each rule catches the citation it is for, and leaves docs/ links and the paper alone', () => {
  const tracked = new Set(['sidecar/x.ts', 'docs/simulator.md']);
  const mentions = (text: string) =>
    citationsIn('sidecar/x.ts', text, tracked).map((problem) => problem.split(': ')[1]);
  assert.deepEqual(mentions('// the ionisation field (SIMULATOR.md §3.7)'), ['"SIMULATOR.md"', '"§3"']);
  assert.deepEqual(mentions('// see L3M-REFERENCE.md and STYLE.md rule 2, DESIGN.md'), [
    '"L3M-REFERENCE.md"',
    '"STYLE.md"',
    '"DESIGN.md"',
  ]);
  assert.deepEqual(mentions("// one run at a time (issue 5) and the issue's shape"), ['"issue 5"', `"the issue's"`]);
  assert.deepEqual(mentions('// written from shared/reference/cosmo.py'), ['"shared/reference"']);
  assert.deepEqual(mentions('// the ionisation field (docs/simulator.md#ionisation; paper Sec. 5, Eq. 41)'), []);
  assert.equal(
    citationsIn('sidecar/x.ts', 'a\nb // Issue 12', tracked)[0]?.startsWith('sidecar/x.ts:2: "Issue 12"'),
    true,
  );
});
