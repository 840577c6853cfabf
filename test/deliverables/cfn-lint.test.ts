/**
 * The CloudFormation that `npm run package` makes passes cfn-lint (the linter AWS publishes, run as users
 * and CI pipelines run it) with no error and no warning but the ones ignored below, each with its reason.
 * One cfn-lint process lints the packaged template and a deliberately broken copy, so the check is shown
 * to catch an error, at the cost of one Python start (~2.5 s).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packaged } from '../package/packaged.ts';
import { onPath, run, skipReason } from './tools.ts';

/**
 * Rules ignored, and why:
 * - W3005 (DependsOn already enforced by a GetAtt): osls writes `DependsOn: [<Role>]` next to
 *   `Role: !GetAtt <Role>.Arn` on every function. Redundant, harmless, and not ours to change.
 */
const IGNORED = ['W3005'];

interface Match {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path?: unknown[] };
}

// On PATH, not run: asking cfn-lint its version costs a Python start that imports all of it (2 s of CPU).
const hasCfnLint = onPath('cfn-lint');
if (!hasCfnLint) console.warn('cfn-lint checks SKIPPED: cfn-lint is not on PATH (pip install cfn-lint)');

describe.skipIf(!hasCfnLint)(`cfn-lint on the packaged template${skipReason(hasCfnLint, 'cfn-lint is not on PATH (pip install cfn-lint)')}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-cfn-lint-'));
  let template = '';
  let broken = '';
  let matches: Match[] = [];

  beforeAll(async () => {
    template = (await packaged()).templatePath;
    const copy = JSON.parse(readFileSync(template, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    // Two real mistakes: a runtime Lambda does not offer, and a reference to a resource that does not exist.
    const fn = copy.Resources['SweeperLambdaFunction'];
    if (!fn) throw new Error('no SweeperLambdaFunction in the packaged template');
    fn.Properties['Runtime'] = 'nodejs9.x';
    fn.Properties['Role'] = { 'Fn::GetAtt': ['NoSuchRole', 'Arn'] };
    broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(copy));
    const r = await run('cfn-lint', ['--format', 'json', '--ignore-checks', ...IGNORED, '--', template, broken], { timeoutMs: 90_000 });
    if (r.code !== 0 && r.stdout.trim() === '') throw new Error(`cfn-lint failed to run (exit ${r.code}): ${r.stderr}`);
    matches = JSON.parse(r.stdout || '[]') as Match[];
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds no error and no warning in the packaged template', () => {
    const found = matches.filter((m) => m.Filename === template).map((m) => `${m.Level} ${m.Rule.Id} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`);
    expect(found).toEqual([]);
  });

  it('reports the errors of a deliberately broken copy', () => {
    const errors = matches.filter((m) => m.Filename === broken && m.Level === 'Error');
    const at = (path: string) => errors.some((m) => (m.Location.Path ?? []).join('/').startsWith(path));
    expect(at('Resources/SweeperLambdaFunction/Properties/Runtime'), JSON.stringify(errors.map((e) => e.Message))).toBe(true);
    expect(at('Resources/SweeperLambdaFunction/Properties/Role'), JSON.stringify(errors.map((e) => e.Message))).toBe(true);
  });
});
