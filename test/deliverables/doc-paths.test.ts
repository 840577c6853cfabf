/**
 * The docs name only what exists: every repository path in README.md, docs/, events/README.md and the YAML
 * and terraform files (comments and values), every relative link and anchor, and every citation of the
 * facts file (`docs/aws-facts.md#anchor`, in code too). Nothing points outside the repository. The
 * scanner (doc-paths.ts) is first shown to catch each kind of drift on a planted tree, then run on the
 * real one, where it must find nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  REMOVED_ON_PURPOSE,
  brokenCitations,
  brokenDocPaths,
  configFiles,
  describeBroken,
  markdownFiles,
  readTree,
  repoRoot,
  slugsOf,
  type BrokenPath,
  type Tree,
} from './doc-paths.ts';

/** A tree from a few files; every listed file's text is known. */
const treeOf = (files: Record<string, string>): Tree => ({ files: Object.keys(files), text: new Map(Object.entries(files)) });

const FACTS = ['# Facts', '', '## Elastic Load Balancing', '', '### IPv6 target groups', ''].join('\n');
const base = {
  'functions/_core/domain/ip.ts': '',
  'functions/sweeper/pacing.ts': '',
  'infra/names.yml': '',
  'docs/deploy.md': '# Deploying\n\n## When an alarm fires (runbook)\n\n- <a id="failed-writes"></a>**x**\n',
  'docs/aws-facts.md': FACTS,
};
const paths = (broken: readonly BrokenPath[]) => broken.map((b) => `${b.file}:${b.line} ${b.path}`);

describe('the doc path scanner', () => {
  it('passes paths, partial paths, bare file names, links and anchors that exist', () => {
    const tree = treeOf({
      ...base,
      'README.md': [
        'See `functions/_core/domain/ip.ts`, functions/sweeper/ and `_core/domain/ip.ts` (pacing.ts), on Node.js.',
        'Runbook: [alarms](docs/deploy.md#when-an-alarm-fires-runbook), [failed](docs/deploy.md#failed-writes).',
        'Names: infra/names.yml, infra/*.yml. Elsewhere: https://github.com/x/y/blob/main/functions/gone.ts.',
        'Generated: `dist/deploy/$STAGE/`, `infra/k8s/overlays/<stage>`; a regex `[a-z]([-a-z0-9]*)?` is no link.',
      ].join('\n'),
    });
    expect(describeBroken(brokenDocPaths(tree))).toBe('');
  });

  it('names each path, link and anchor that does not exist, with its file and line', () => {
    const tree = treeOf({
      ...base,
      'README.md': ['# quiesce', '', 'The contracts: `functions/_core/events.ts`.', 'Map: [spot](docs/spot.md), [runbook](docs/deploy.md#node-signals-late).', 'Also `traffic-shift/failover.ts` and shift.ts.', 'Back to [top](#quiesce) and [nowhere](#nowhere).'].join('\n'),
      'docs/guide.md': 'Up: [readme](../README.md#quiesce), [out](../../elsewhere.md), [facts](aws-facts.md#ipv6-target-groups).\n',
    });
    expect(paths(brokenDocPaths(tree)).sort()).toEqual(
      [
        'README.md:3 functions/_core/events.ts',
        'README.md:4 docs/spot.md',
        'README.md:4 docs/deploy.md#node-signals-late',
        'README.md:5 traffic-shift/failover.ts',
        'README.md:5 shift.ts',
        'README.md:6 #nowhere',
        'docs/guide.md:1 ../../elsewhere.md',
      ].sort(),
    );
  });

  it('reads YAML and terraform files, comments and values alike', () => {
    const tree = treeOf({
      ...base,
      'serverless.yml': '# Schedules onto this bus (functions/traffic-shift/events.ts).\nhandler: x\n',
      'infra/serverless/alarms.yml': "AlarmDescription: Failed (runbook docs/deploy.md#function-errors)\n# it's fine: infra/names.yml\n",
      'infra/terraform/main.tf': '# see bin/render.ts\n',
    });
    expect(paths(brokenDocPaths(tree)).sort()).toEqual(['infra/serverless/alarms.yml:1 docs/deploy.md#function-errors', 'infra/terraform/main.tf:1 bin/render.ts', 'serverless.yml:1 functions/traffic-shift/events.ts']);
  });

  it('allows a path named on purpose as removed, and only that one', () => {
    const [removed] = [...REMOVED_ON_PURPOSE.keys()];
    const tree = treeOf({ ...base, 'docs/upgrade.md': `Moving from \`${removed}\` (removed), not from \`infra/terraform/other\`.\n` });
    expect(paths(brokenDocPaths(tree))).toEqual(['docs/upgrade.md:1 infra/terraform/other']);
  });

  it('holds every citation of the facts file to an anchor it has, and nothing may point outside the repository', () => {
    const tree = treeOf({
      ...base,
      'functions/a.ts': '// ids are echoed (docs/aws-facts.md#ipv6-target-groups)\n',
      'functions/b.ts': '// (aws-facts "ELBv2 and IPv6")\n// docs/aws-facts.md#no-such-fact\n// docs/aws-facts.md\n',
      'functions/c.ts': '// see ../shared/aws-facts.md and /work/shared/notes\n',
      'docs/guide.md': 'Facts: [ipv6](aws-facts.md#ipv6-target-groups), [all](aws-facts.md), [bad](aws-facts.md#gone).\n',
      'README.md': 'As read for shared/aws-facts.md.\n',
    });
    const problems = brokenCitations(tree).map((b) => `${b.file}:${b.line} ${b.problem}`);
    expect(problems.filter((p) => p.startsWith('functions/a.ts'))).toEqual([]);
    expect(problems.filter((p) => p.startsWith('functions/b.ts'))).toEqual([
      'functions/b.ts:1 cite docs/aws-facts.md#<anchor>',
      'functions/b.ts:2 no heading #no-such-fact in docs/aws-facts.md',
      'functions/b.ts:3 a citation in code names its fact: add #<anchor>',
    ]);
    expect(problems.filter((p) => p.startsWith('functions/c.ts'))).toEqual(
      expect.arrayContaining(['functions/c.ts:1 points at a shared folder outside the repository', 'functions/c.ts:1 a machine path']),
    );
    expect(problems.filter((p) => p.startsWith('docs/guide.md'))).toEqual(['docs/guide.md:1 no heading #gone in docs/aws-facts.md']);
    expect(problems.filter((p) => p.startsWith('README.md'))).toEqual(expect.arrayContaining(['README.md:1 cites a shared document that is not in the repository']));
  });

  it("makes GitHub's heading anchors: code marks and punctuation dropped, repeats numbered", () => {
    const slugs = slugsOf(['# What `npm start` shows', '## What each guard promises, and how', '### Node', '### Node', '```sh', '# a comment, no heading', '```', '<a id="failed-writes"></a>'].join('\n'));
    expect([...slugs].sort()).toEqual(['failed-writes', 'node', 'node-1', 'what-each-guard-promises-and-how', 'what-npm-start-shows']);
  });
});

describe('the repository', () => {
  let tree: Tree;
  beforeAll(() => {
    tree = readTree(repoRoot());
  });

  it('reads the files it promises to check', () => {
    expect(markdownFiles(tree)).toEqual(expect.arrayContaining(['README.md', 'docs/aws-facts.md', 'events/README.md']));
    expect(configFiles(tree)).toEqual(expect.arrayContaining(['serverless.yml', 'infra/names.yml', 'infra/serverless/alarms.yml']));
    expect(tree.files.some((f) => f.startsWith('node_modules/'))).toBe(false);
  });

  it('names no repository path, link or anchor that does not exist (README, docs, events, YAML)', () => {
    expect(describeBroken(brokenDocPaths(tree))).toBe('');
  });

  it('cites the facts file by anchors it has, and points nowhere outside itself', () => {
    expect(describeBroken(brokenCitations(tree))).toBe('');
  });

  it('keeps the removed-on-purpose list current: each path still absent and still named', () => {
    for (const path of REMOVED_ON_PURPOSE.keys()) {
      expect(tree.files.some((f) => f === path || f.startsWith(`${path}/`)), path).toBe(false);
      expect([...tree.text.values()].some((t) => t.includes(path)), path).toBe(true);
    }
  });
});
