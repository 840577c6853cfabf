/**
 * The release's steps, run as the workflow runs them (scripts/release.ts), image aside: the assets exist
 * with the checksums the manifest gives; the released template is the template `osls deploy` makes (given
 * stage prod's parameters it is the run's packaged prod, but for where the code is); the terraform module
 * takes exactly its parameters, with a variable per stage setting (same defaults), and gives its outputs;
 * the workflow in .github runs this script. Reuses the run's zips (packaged.ts); one osls run (~2.5 s).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkStageSettings, settingsSchema } from '../../functions/cli/stage-settings.ts';
import { changelogSection, release, type ReleaseResult } from '../../scripts/release.ts';
import { FUNCTIONS } from '../../bin/build.ts';
import { packaged, TEST_STAGES } from './packaged.ts';
import { withParameterDefaults, type CfnTemplate } from './template.ts';

const root = new URL('../../', import.meta.url).pathname;
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const tf = (file: string): string => readFileSync(join(root, 'infra', 'terraform', file), 'utf8');

/** A template for comparison: the code's location, osls's deployment bucket and the version set aside. */
function comparable(t: CfnTemplate): CfnTemplate {
  const c = structuredClone(t);
  delete c.Resources['ServerlessDeploymentBucket'];
  delete c.Resources['ServerlessDeploymentBucketPolicy'];
  delete c.Outputs?.['ServerlessDeploymentBucketName'];
  delete c.Outputs?.['Version'];
  delete c.Parameters;
  for (const r of Object.values(c.Resources)) if (r.Type === 'AWS::Lambda::Function') delete r.Properties?.['Code'];
  return c;
}

describe('npm run release (image aside)', () => {
  const out = mkdtempSync(join(tmpdir(), 'quiesce-release-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let result: ReleaseResult;
  let template: CfnTemplate;

  beforeAll(async () => {
    await packaged(); // the run's zips in dist/lambda
    result = await release({ outDir: out, reuseZips: true, image: false, env: { ...process.env, GITHUB_REF_TYPE: '' }, log: () => undefined });
    template = JSON.parse(readFileSync(join(out, result.manifest.template.file), 'utf8')) as CfnTemplate;
  }, 120_000);

  it('writes the template, a zip per function, release.json and SHA256SUMS, each checksum right', () => {
    const v = result.version;
    expect(result.manifest.template.file).toBe(`quiesce-${v}-cloudformation.json`);
    expect(Object.keys(result.manifest.functions)).toEqual([...FUNCTIONS]);
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/) as [string, string]);
    expect(sums.map(([, f]) => f).sort()).toEqual([result.manifest.template.file, ...Object.values(result.manifest.functions).map((f) => f.file), 'release.json'].sort());
    for (const [sum, file] of sums) expect(createHash('sha256').update(readFileSync(join(out, file))).digest('hex'), file).toBe(sum);
    for (const a of result.assets) expect(existsSync(a), a).toBe(true);
    expect(result.manifest.image).toBe(`ghcr.io/quiesce-dev/quiesce-pod-forwarder:${v}`);
    expect(result.imageSkipped).toMatch(/not asked for/);
    // Not from a tag here: a development version naming its commit, never a bare release number.
    expect(v).toMatch(/^\d+\.\d+\.\d+(-dev\.g[0-9a-f]{12}(\.dirty)?)?$/);
    expect((template.Outputs?.['Version'] as { Value: string }).Value).toBe(v);
  });

  it('is the template `osls deploy --stage prod` deploys, given stage prod\'s parameters (code location aside)', async () => {
    const prod = JSON.parse(readFileSync((await packaged()).templatePath, 'utf8')) as CfnTemplate;
    const { settings } = checkStageSettings('prod', TEST_STAGES.prod);
    const values: Record<string, string> = { Stage: 'prod', ClusterName: String(settings['clusterName']), CodeBucket: 'my-artifacts', CodeKeyPrefix: 'quiesce/prod/x/' };
    for (const spec of Object.values(settingsSchema())) if (spec.parameter && spec.parameter !== 'ClusterName') values[spec.parameter] = String(prod.Parameters?.[spec.parameter]?.Default);
    const released = withParameterDefaults(template, values);
    // osls's logical ids made from the stage's names (the rules on the quiesce bus) say Stage in the release.
    // A function version's logical id is a hash of its configuration, which names the stage: set aside too.
    const ids = (t: CfnTemplate): CfnTemplate => JSON.parse(JSON.stringify(t).replace(/Quiesceprod(\w+)/g, 'QuiesceStage$1').replace(/LambdaVersion\w+/g, 'LambdaVersion<hash>')) as CfnTemplate;
    expect(ids(comparable(released))).toEqual(ids(comparable(withParameterDefaults(prod))));
    const code = (released.Resources['SweeperLambdaFunction']?.Properties?.['Code'] ?? {}) as Record<string, unknown>;
    expect(code).toEqual({ S3Bucket: 'my-artifacts', S3Key: 'quiesce/prod/x/sweeper.zip' });
    expect(template.Resources['ServerlessDeploymentBucket']).toBeUndefined();
    expect(template.Parameters?.['ClusterName']?.Default).toBeUndefined();
  });

  it('the terraform module passes exactly the template\'s parameters, has a variable per stage setting with its default, and gives every output', () => {
    const main = tf('modules/quiesce/main.tf');
    const passed = [...(/parameters = \{([\s\S]*?)\n {2}\}/.exec(main)?.[1] ?? '').matchAll(/^\s+(\w+)\s+=/gm)].map((m) => m[1]);
    expect(passed.sort()).toEqual(Object.keys(template.Parameters ?? {}).sort());
    const variables = tf('modules/quiesce/variables.tf');
    for (const [key, spec] of Object.entries(settingsSchema())) {
      if (!spec.parameter) continue;
      const block = new RegExp(`variable "${snake(key)}" \\{([\\s\\S]*?)\\n\\}`).exec(variables)?.[1];
      expect(block, `variable ${snake(key)}`).toBeDefined();
      expect(main, key).toMatch(new RegExp(`${spec.parameter}\\s+=.*var\\.${snake(key)}\\b`));
      const fallback = /default\s+=\s+(.*)/.exec(block ?? '')?.[1];
      if (spec.required) expect(fallback, key).toBeUndefined();
      else expect(JSON.stringify(parse(fallback ?? 'null')), key).toBe(JSON.stringify(spec.type === 'list' ? (String(spec.default) === '' ? [] : String(spec.default).split(',')) : spec.default));
    }
    const outputs = [...tf('modules/quiesce/outputs.tf').matchAll(/outputs\["(\w+)"\]/g)].map((m) => m[1]);
    expect(outputs.sort()).toEqual(Object.keys(template.Outputs ?? {}).sort());
    expect(main).toMatch(/name\s+=\s+"quiesce-\$\{var\.stage\}"/);
  });

  it('has a workflow in the repository that runs these steps on a version tag, with the CHANGELOG section as notes', () => {
    const wf = parse(readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8')) as { on: { push: { tags: string[] } }; jobs: Record<string, { steps: { run?: string }[] }> };
    expect(wf.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');
    expect(runs).toMatch(/npm run release -- --push --publish/);
    expect(changelogSection(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string)).toMatch(/^## \[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}/);
  });
});
