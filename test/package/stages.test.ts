/**
 * One settings file per stage (infra/stages/<stage>.yml, read by infra/stage-settings.cjs), and several
 * stages in one account:
 *   - a stage without a cluster does not package: the message names the file and the key;
 *   - `--param` is refused (a setting on the command line is dropped by the next deploy that forgets it);
 *   - the same stage packaged again with one unrelated edit of its file differs from the run's shared
 *     package (packaged.ts) by that edit alone;
 *   - a second stage packaged next to it shares no name, alarm or metric with the first.
 * Two osls runs (about 2.5 s of CPU each) beside the shared one, started together; the zips are the run's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageService, serviceCopy } from '../../bin/package.ts';
import { stageNames, type NameKey } from '../../functions/cli/stage-names.ts';
import { checkStageSettings, readStageSettings, settingsSchema } from '../../functions/cli/stage-settings.ts';
import { packaged, TEST_STAGES } from './packaged.ts';
import { withParameterDefaults, type CfnTemplate } from './template.ts';

type Json = Record<string, unknown>;
const root = new URL('../../', import.meta.url).pathname;

/** The template with osls's per-package artifact directory (a timestamp) made constant. */
const normalised = (text: string): CfnTemplate => JSON.parse(text.replace(/(serverless\/quiesce\/[a-z0-9-]+\/)[^/"]+\//g, '$1<artifact-dir>/')) as CfnTemplate;

/** Every path under which `a` and `b` differ, with both values. */
function differences(a: unknown, b: unknown, path = ''): { path: string; a: unknown; b: unknown }[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences((a as Json)[k], (b as Json)[k], `${path}/${k}`));
  }
  return [{ path, a, b }];
}

/** Every string in a value, deep. */
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);

/** Physical names a resource claims in the account (the properties CloudFormation names it by). */
const NAME_PROPERTIES = ['Name', 'QueueName', 'TableName', 'TopicName', 'DashboardName', 'RepositoryName', 'RoleName', 'FunctionName', 'AlarmName', 'LogGroupName'];
const physicalNames = (t: CfnTemplate): string[] =>
  Object.values(t.Resources).flatMap((r) =>
    NAME_PROPERTIES.map((p) => r.Properties?.[p])
      // A name the template spells (a string or a !Sub); a Ref or GetAtt names another resource of the stack.
      .map((n) => (typeof n === 'string' ? n : typeof (n as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'] === 'string' ? (n as { 'Fn::Sub': string })['Fn::Sub'] : undefined))
      .filter((n): n is string => n !== undefined)
      .map((n) => n.replace('${AWS::Region}', 'eu-west-1')),
  );

describe('one settings file per stage', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'quiesce-stages-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let prod: CfnTemplate;
  let edited: CfnTemplate;
  let green: CfnTemplate;
  let refused: { example: string; param: string };

  beforeAll(async () => {
    const shared = await packaged();
    prod = normalised(readFileSync(shared.templatePath, 'utf8'));
    // One copy of the service per osls run at a time: osls writes its state into the service directory.
    const service = serviceCopy(join(scratch, 'service'), { prod: { ...TEST_STAGES.prod, dryRun: false } });
    const second = serviceCopy(join(scratch, 'second'), { green: TEST_STAGES.green });
    const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'packaged', (err: Error) => err.message);
    const [e, g, example, param] = await Promise.all([
      packageService({ serviceDir: service, stage: 'prod', build: false, outDir: join(scratch, 'prod') }),
      packageService({ serviceDir: second, stage: 'green', build: false, outDir: join(scratch, 'green') }),
      // The committed example has no cluster: packaging it must fail, naming the file and the key.
      failure(packageService({ serviceDir: service, stage: 'example', build: false, outDir: join(scratch, 'example') })),
      failure(packageService({ serviceDir: service, stage: 'prod', build: false, outDir: join(scratch, 'param'), extraArgs: ['--param', 'dryRun=false'] })),
    ]);
    edited = normalised(readFileSync(e.templatePath, 'utf8'));
    green = normalised(readFileSync(g.templatePath, 'utf8'));
    refused = { example, param };
  }, 120_000);

  it('refuses a stage without a cluster, naming the file and the key', () => {
    expect(refused.example).toMatch(/infra\/stages\/example\.yml: clusterName is required/);
    expect(() => checkStageSettings('blue', { region: 'eu-west-1' })).toThrow(/infra\/stages\/blue\.yml: clusterName is required/);
    expect(() => readStageSettings('no-such-stage')).toThrow(/infra\/stages\/no-such-stage\.yml does not exist: copy infra\/stages\/example\.yml/);
  });

  it('refuses --param, an unknown key, a bad value and a stage name that cannot be in every name', () => {
    expect(refused.param).toMatch(/--param dryRun=false: not read\. Every setting of stage prod lives in infra\/stages\/prod\.yml/);
    expect(() => checkStageSettings('blue', { clusterName: 'blue', region: 'eu-west-1', dryrun: false })).toThrow(/infra\/stages\/blue\.yml: dryrun: no such setting/);
    expect(() => checkStageSettings('blue', { clusterName: 'blue', region: 'eu-west-1', dryRun: 'no' })).toThrow(/infra\/stages\/blue\.yml: dryRun: got "no" \(expected true or false/);
    expect(() => checkStageSettings('blue', { clusterName: 'blue', region: 'eu-west-1', logRetentionDays: 31 })).toThrow(/logRetentionDays: got 31/);
    expect(() => checkStageSettings('Blue_1', { clusterName: 'blue', region: 'eu-west-1' })).toThrow(/stage "Blue_1": a stage name is 1 to 20 characters/);
  });

  it('shows an unrelated edit of the stage file as that one change of the template: the parameter default', () => {
    expect(differences(prod, edited)).toEqual([{ path: '/Parameters/DryRun/Default', a: 'true', b: 'false' }]);
    // ...which is what every function gets as DRY_RUN.
    const dryRun = (t: CfnTemplate) => ((withParameterDefaults(t).Resources['SweeperLambdaFunction']?.Properties?.['Environment'] as Json)['Variables'] as Json)['DRY_RUN'];
    expect([dryRun(prod), dryRun(edited)]).toEqual(['true', 'false']);
  });

  it('takes every setting with a parameter as a stack parameter whose default is the stage file\'s value', () => {
    const { settings } = checkStageSettings('prod', TEST_STAGES.prod);
    for (const [key, spec] of Object.entries(settingsSchema())) {
      if (!spec.parameter) continue;
      expect(prod.Parameters?.[spec.parameter]?.Default, key).toBe(String(settings[key]));
    }
    expect(Object.keys(prod.Parameters ?? {}).sort()).toEqual(Object.values(settingsSchema()).flatMap((s) => (s.parameter ? [s.parameter] : [])).sort());
  });

  it('gives a second stage in the same account names of its own: no resource, SSM path or Argo CD name in common', () => {
    const [a, b] = [physicalNames(prod), physicalNames(green)];
    expect(a.length).toBeGreaterThan(40);
    expect(a.filter((n) => b.includes(n)), JSON.stringify(a.filter((n) => b.includes(n)))).toEqual([]);
    // Nothing of one stage is named in the other's template (ARNs in policies, the dashboard, the environment).
    expect(strings(green).filter((s) => /quiesce[-/]prod\b|\/prod\//.test(s))).toEqual([]);
    expect(strings(prod).filter((s) => /quiesce[-/]green\b|\/green\//.test(s))).toEqual([]);
    // infra/names.yml: every name differs by stage, but the three that live inside the stage's own cluster.
    const [np, ng] = [stageNames('prod'), stageNames('green')];
    const shared = (Object.keys(np) as NameKey[]).filter((k) => np[k] === ng[k]);
    expect(shared.sort()).toEqual(['forwarderNamespace', 'forwarderServiceAccount', 'readerGroup']);
  });

  it('gives each stage alarms and a dashboard on its own metrics: the stage is a dimension of every quiesce metric', () => {
    for (const [stage, t] of [['prod', prod], ['green', green]] as const) {
      const ours = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.['Namespace'] === 'quiesce');
      expect(ours.length).toBeGreaterThanOrEqual(7);
      for (const alarm of ours) expect((alarm.Properties?.['Dimensions'] as { Name: string; Value: string }[]).find((d) => d.Name === 'stage')?.Value, String(alarm.Properties?.['AlarmName'])).toBe(stage);
      const env = (t.Resources['SweeperLambdaFunction']?.Properties?.['Environment'] as { Variables: Json }).Variables;
      expect(env['QUIESCE_STAGE']).toBe(stage);
      const body = String((t.Resources['Dashboard']?.Properties?.['DashboardBody'] as { 'Fn::Sub': string })['Fn::Sub']);
      const rows = [...body.matchAll(/\["quiesce", "(\w+)", "service", "([a-z-]+)"(?:, "stage", "([a-z0-9-]+)")?/g)];
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const r of rows) expect(r[3], `${r[1]} of ${r[2]}`).toBe(stage);
    }
  });

  it('documents every setting in docs/configuration.md, with its default and stack parameter', () => {
    const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `(\w+)` \| ([^|]+) \| [^|]+ \| ([^|]+) \|/gm)].map((m) => [m[1], { fallback: (m[2] ?? '').trim(), parameter: (m[3] ?? '').trim() }]));
    for (const [key, spec] of Object.entries(settingsSchema())) {
      const row = rows.get(key);
      expect(row, key).toBeDefined();
      expect(row?.fallback, key).toBe(spec.required ? 'required' : `\`${spec.default === '' ? "''" : String(spec.default)}\``);
      if (spec.parameter) expect(row?.parameter, key).toBe(spec.parameter);
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(settingsSchema()).sort());
  });

  it('ships an example stage file that lists only settings that exist, and the settings it documents', () => {
    const example = readFileSync(join(root, 'infra', 'stages', 'example.yml'), 'utf8');
    expect(() => checkStageSettings('example', { ...(parse(example) as Json), clusterName: 'x', region: 'eu-west-1' })).not.toThrow();
    for (const key of [...example.matchAll(/^([A-Za-z]+):/gm)].map((m) => m[1] as string)) expect(Object.keys(settingsSchema()), key).toContain(key);
  });
});
