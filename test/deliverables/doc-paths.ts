/**
 * The docs' promise that the files they name exist. Docs drift when code moves: a README that sends a
 * newcomer to a file that was renamed a year ago costs more trust than a missing doc. This module reads
 * the repository's prose (every Markdown file, and every YAML and terraform file: their comments, and values
 * such as an alarm's runbook link) for what looks like a path of this repository and answers which of them
 * name nothing. Pure over an in-memory `Tree` (the file list and each file's text), so the unit test can
 * plant a bad path and see it caught; `readTree` loads the real one.
 *
 * What counts as a path, and how each is checked:
 * - a Markdown link `[text](target)` that is not a URL: resolved against the linking file's folder;
 *   `#anchor` (or a bare `(#anchor)`) must be a heading (GitHub's slug) or an `<a id>` of the target;
 * - a rooted path (`functions/...`, `test/...`, `infra/...`, `docs/...`, `events/...`, `scripts/...`,
 *   `bin/...`, `.ci/...`, `.github/...`): a file or folder from the repository root (a `*` matches any
 *   name); `docs/x.md#anchor` checks the anchor too;
 * - a partial path ending in a source extension (`_core/contracts/names.ts`, `executor/operations.ts`):
 *   some file's path ends with it; a bare file name (`pacing.ts`, `serverless.yml`): some file has that
 *   name (`.js` only with a folder: `Node.js` is no file of ours).
 * URLs are left out (another site's paths are not ours), and so are templated paths (`dist/deploy/$STAGE`,
 * `<path>/infra/...`) and generated folders (`dist/`, `.serverless/`).
 *
 * Two rules hold for every committed text file, code included: the facts file is cited as
 * `docs/aws-facts.md#anchor` with an anchor it has (Markdown may link it relatively), and nothing points
 * outside the repository (a `shared/` folder next to it, a machine path).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository as the checks see it: every file's path (from the root, `/`-separated) and its text. */
export interface Tree {
  readonly files: readonly string[];
  readonly text: ReadonlyMap<string, string>;
}

/** One path a doc names that does not exist: where it was found, and what is wrong. */
export interface BrokenPath {
  readonly file: string;
  readonly line: number;
  readonly path: string;
  readonly problem: string;
}

/** Folders at the root that the docs may name paths under. */
const ROOTS = ['functions', 'test', 'infra', 'docs', 'events', 'scripts', 'bin', '.ci', '.github'];
/** Extensions a partial path must carry to be checked (ours; other repositories' `.go` are not). */
const SOURCE_EXT = /\.(?:ts|mjs|cjs|js|tf|ya?ml)$/;
/** Extensions a bare file name must carry to be checked (not `.js`: prose names Node.js, not a file). */
const BARE_EXT = /\.(?:ts|mjs|tf|ya?ml)$/;
/** Folders never read: installed, generated, or the version control's own. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.serverless', 'coverage', '.terraform']);
/**
 * Paths a doc names on purpose although they are gone: each says it was removed (an upgrade note). Kept
 * short and checked both ways by the test: still absent, and still named somewhere (else drop the entry).
 */
export const REMOVED_ON_PURPOSE: ReadonlyMap<string, string> = new Map([
  ['infra/terraform/eks-access', 'docs/deploy.md tells who used the removed terraform module how to move to the stack'],
  ['infra/terraform/traffic-shift.tf', 'CHANGELOG.md says the listener-rule example was replaced by the two terraform modules'],
]);
/** The facts file every AWS-behaviour citation points at. */
export const FACTS_FILE = 'docs/aws-facts.md';

const URL_PATTERN = /\b(?:https?|file|s3):\/\/[^\s)>\]"'`]+/g;
const MD_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const ROOTED = new RegExp(`(?<![\\w.$@/-])(?:${ROOTS.map((r) => r.replace('.', '\\.')).join('|')})/[\\w./*-]*(?:#[\\w-]+)?`, 'g');
const PARTIAL = /(?<![\w.$@/<>-])(?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.(?:ts|mjs|cjs|js|tf|ya?ml)(?![\w/-])/g;

/** Lines of a text, 1-based, for reporting. */
const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Replaces each URL with spaces of its length, so indexes (and line numbers) stay where they were. */
const blankUrls = (text: string): string => text.replace(URL_PATTERN, (u) => ' '.repeat(u.length));

/** Markdown with its code (fenced blocks and inline spans) blanked: brackets in code are not links. */
const codeBlanked = (markdown: string): string =>
  markdown.replace(/^(\s*)(```|~~~)[\s\S]*?^\s*\2/gm, (block) => block.replace(/[^\n]/g, ' ')).replace(/`[^`\n]+`/g, (span) => ' '.repeat(span.length));

/**
 * GitHub's heading anchor: lowercase, punctuation dropped (letters, digits, spaces, `-` and `_` kept),
 * spaces to `-`; a repeated heading gets `-1`, `-2`, ... Inline code marks and links keep their text.
 */
export function slugsOf(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) slugs.add(m[1] ?? '');
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = (heading[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** The tree's files and folders as sets, built once per tree (the checks ask thousands of times). */
interface TreeIndex {
  readonly paths: ReadonlySet<string>;
  readonly basenames: ReadonlySet<string>;
}
const indexes = new WeakMap<Tree, TreeIndex>();
function indexOf(tree: Tree): TreeIndex {
  let index = indexes.get(tree);
  if (!index) {
    const paths = new Set<string>();
    for (const f of [...tree.files, ...tree.text.keys()]) {
      const parts = f.split('/');
      for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
    }
    index = { paths, basenames: new Set([...paths].map((p) => posix.basename(p))) };
    indexes.set(tree, index);
  }
  return index;
}

/** Is `path` (from the root, maybe ending in `/`, maybe with `*`) a file or a folder of the tree? */
export function exists(tree: Tree, path: string): boolean {
  const clean = posix.normalize(path).replace(/\/+$/, '');
  if (clean === '' || clean === '.') return true;
  if (clean.includes('*')) {
    const re = new RegExp(`^${clean.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    return [...indexOf(tree).paths].some((f) => re.test(f));
  }
  return indexOf(tree).paths.has(clean);
}

/** The anchor problem of `file#anchor`, or undefined when the anchor is there (or the file is not Markdown). */
function anchorProblem(tree: Tree, file: string, anchor: string | undefined): string | undefined {
  if (!anchor || !file.endsWith('.md')) return undefined;
  const text = tree.text.get(file);
  if (text === undefined) return undefined;
  return slugsOf(text).has(anchor) ? undefined : `no heading #${anchor} in ${file}`;
}

/** Checks the text of `file`: Markdown (links too), or a YAML / terraform file (comments and values alike). */
export function checkProse(tree: Tree, file: string, prose: string, markdown: boolean): BrokenPath[] {
  const broken: BrokenPath[] = [];
  const text = blankUrls(prose);
  const report = (index: number, path: string, problem: string) => broken.push({ file, line: lineOf(text, index), path, problem });
  const linkSpans: Array<[number, number]> = [];

  if (markdown) {
    for (const m of codeBlanked(text).matchAll(MD_LINK)) {
      const target = m[1] ?? '';
      const index = m.index ?? 0;
      linkSpans.push([index, index + m[0].length]);
      if (/^[a-z][\w+.-]*:/i.test(target) || target.trim() === '') continue;
      const [pathPart = '', anchor] = target.split('#');
      const resolved = pathPart === '' ? file : posix.normalize(posix.join(posix.dirname(file), decodeURI(pathPart)));
      if (resolved.startsWith('../')) report(index, target, 'points outside the repository');
      else if (!exists(tree, resolved)) report(index, target, `no such file or folder: ${resolved}`);
      else {
        const problem = anchorProblem(tree, resolved, anchor);
        if (problem) report(index, target, problem);
      }
    }
  }
  const inLink = (i: number) => linkSpans.some(([a, b]) => i >= a && i < b);

  for (const m of text.matchAll(ROOTED)) {
    const index = m.index ?? 0;
    const after = text[index + m[0].length] ?? '';
    if (inLink(index) || /[<${]/.test(after)) continue;
    const [raw = '', anchor] = m[0].split('#');
    const path = raw.replace(/[.]+$/, '');
    if (REMOVED_ON_PURPOSE.has(path.replace(/\/+$/, ''))) continue;
    if (!exists(tree, path)) report(index, m[0], 'no such file or folder');
    else {
      const problem = anchorProblem(tree, path, anchor);
      if (problem) report(index, m[0], problem);
    }
  }
  for (const m of text.matchAll(PARTIAL)) {
    const token = m[0];
    const index = m.index ?? 0;
    if (inLink(index) || ROOTS.some((r) => token.startsWith(`${r}/`)) || !(token.includes('/') ? SOURCE_EXT : BARE_EXT).test(token)) continue;
    const { paths, basenames } = indexOf(tree);
    const found = !basenames.has(posix.basename(token)) ? false : !token.includes('/') || paths.has(token) || tree.files.some((f) => f.endsWith(`/${token}`));
    if (!found) report(index, token, token.includes('/') ? 'no file ends with this path' : 'no file has this name');
  }
  return broken;
}

/** The Markdown files whose prose is checked: every one in the tree. */
export const markdownFiles = (tree: Tree): string[] => tree.files.filter((f) => f.endsWith('.md'));
/** The configuration files whose text is checked: every YAML file (serverless.yml, infra/, .github/) and terraform file. */
export const configFiles = (tree: Tree): string[] => tree.files.filter((f) => /\.(?:ya?ml|tf)$/.test(f));

/** Every broken path in the tree's Markdown and configuration files. */
export function brokenDocPaths(tree: Tree): BrokenPath[] {
  return [
    ...markdownFiles(tree).flatMap((f) => checkProse(tree, f, tree.text.get(f) ?? '', true)),
    ...configFiles(tree).flatMap((f) => checkProse(tree, f, tree.text.get(f) ?? '', false)),
  ];
}

/** Files exempt from the citation rules: the facts file itself, and this checker (which must spell the patterns it looks for). */
const CITATION_EXEMPT = new Set([FACTS_FILE, 'test/deliverables/doc-paths.ts', 'test/deliverables/doc-paths.test.ts']);
const OUTSIDE = [
  { re: /(?:\.\.\/)+shared\b/g, problem: 'points at a shared folder outside the repository' },
  { re: /(?<![\w.@-])shared\/[\w.-]+\.md/g, problem: 'cites a shared document that is not in the repository' },
  { re: /(?<![\w.])\/work\//g, problem: 'a machine path' },
];

/**
 * Citations in every text file: a mention of the facts file is `docs/aws-facts.md#anchor` with an anchor
 * it has (from a Markdown file, any link that resolves to it, anchor or not), and nothing points outside
 * the repository.
 */
export function brokenCitations(tree: Tree): BrokenPath[] {
  const broken: BrokenPath[] = [];
  const facts = tree.text.get(FACTS_FILE);
  const anchors = facts === undefined ? new Set<string>() : slugsOf(facts);
  for (const [file, raw] of tree.text) {
    if (CITATION_EXEMPT.has(file)) continue;
    const text = blankUrls(raw);
    const report = (index: number, path: string, problem: string) => broken.push({ file, line: lineOf(text, index), path, problem });
    for (const { re, problem } of OUTSIDE) for (const m of text.matchAll(re)) report(m.index ?? 0, m[0], problem);
    for (const m of text.matchAll(/aws-facts/g)) {
      const index = m.index ?? 0;
      const prefix = /((?:\.\.?\/)*(?:docs\/)?)$/.exec(text.slice(Math.max(0, index - 40), index))?.[1] ?? '';
      const rest = /^aws-facts\.md(?:#([\w-]+))?/.exec(text.slice(index, index + 200));
      if (!rest) {
        report(index, text.slice(index, index + 30).split('\n')[0] ?? '', `cite ${FACTS_FILE}#<anchor>`);
        continue;
      }
      const anchor = rest[1];
      const resolved = file.endsWith('.md') && !prefix.startsWith('docs/') ? posix.normalize(posix.join(posix.dirname(file), `${prefix}aws-facts.md`)) : `${prefix}aws-facts.md`;
      if (resolved !== FACTS_FILE) report(index, `${prefix}aws-facts.md`, `not ${FACTS_FILE}`);
      else if (facts === undefined) report(index, resolved, `${FACTS_FILE} does not exist`);
      else if (anchor === undefined && !file.endsWith('.md')) report(index, resolved, 'a citation in code names its fact: add #<anchor>');
      else if (anchor !== undefined && !anchors.has(anchor)) report(index, `${resolved}#${anchor}`, `no heading #${anchor} in ${FACTS_FILE}`);
    }
  }
  return broken;
}

/** Reads the repository under `root` (skipping installed and generated folders, and binary files). */
export function readTree(root: string): Tree {
  const files: string[] = [];
  const text = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(rel);
        continue;
      }
      if (!entry.isFile()) continue;
      files.push(rel);
      if (statSync(join(root, rel)).size > 2_000_000) continue;
      const buf = readFileSync(join(root, rel));
      if (!buf.includes(0)) text.set(rel, buf.toString('utf8'));
    }
  };
  walk('');
  return { files, text };
}

/** One line per broken path, for a failing test's message. */
export const describeBroken = (broken: readonly BrokenPath[]): string => broken.map((b) => `${b.file}:${b.line}: ${b.path}: ${b.problem}`).join('\n');

/** The repository root, from this file's place in it. */
export const repoRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', '..');
