/**
 * `npm run package` once per test run, shared by every test file that reads the packaged CloudFormation
 * (package.test.ts, the cfn-lint and IAM checks in test/deliverables/). The stage is `prod` with the
 * settings of TEST_STAGES below, packaged in a copy of the service (bin/package.ts serviceCopy) so no stage
 * file is written into the repository; the zips are built once into the repository's dist/lambda.
 *
 * Why once: packaging builds five bundles and runs osls (~4 s of CPU), and writes dist/lambda/*.zip in the
 * repository, so two workers packaging at the same time would also overwrite each other's zips. The first
 * caller in the run takes a lock (mkdir is atomic) in the run's scratch directory and packages; every other
 * caller, in any worker, waits for its result file (bounded), and a failed packaging is reported to all.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { packageService, serviceCopy, type PackageResult } from '../../bin/package.ts';
import { withParameterDefaults, type CfnTemplate } from './template.ts';

/** The stages the tests package: prod (shared, below) and the second stage of stages.test.ts. */
export const TEST_STAGES = {
  prod: { clusterName: 'prod', region: 'us-east-1', logRetentionDays: 90 },
  green: { clusterName: 'green', region: 'us-east-1', logRetentionDays: 90 },
} as const;

/** A packaging result plus how long it took, as the first caller measured it. */
export interface Packaged extends PackageResult {
  readonly elapsedMs: number;
}

type Outcome = { ok: true; result: Packaged } | { ok: false; error: string };

let memo: Promise<Packaged> | undefined;

/** The run's packaged stack (stage prod, placeholders allowed), packaging it if no one has yet. */
export function packaged(): Promise<Packaged> {
  memo ??= load();
  return memo;
}

/**
 * The run's packaged template as a deploy of stage prod makes it: every stage setting the stack takes as a
 * parameter replaced by its Default (the stage file's value), so checks read `CLUSTER_NAME: 'prod'` where
 * the template says `Ref: ClusterName`. The raw template is at `(await packaged()).templatePath`.
 */
export async function packagedTemplate<T = CfnTemplate>(): Promise<T> {
  return withParameterDefaults(JSON.parse(readFileSync((await packaged()).templatePath, 'utf8')) as CfnTemplate) as T;
}

async function load(): Promise<Packaged> {
  const dir = inject('runDir');
  const resultFile = join(dir, 'package.json');
  let outcome: Outcome;
  try {
    mkdirSync(join(dir, 'package.lock'));
  } catch {
    outcome = await waitForResult(resultFile, 120_000);
    if (!outcome.ok) throw new Error(`packaging failed in another test file: ${outcome.error}`);
    return outcome.result;
  }
  const started = Date.now();
  try {
    const serviceDir = serviceCopy(join(dir, 'service'), { prod: TEST_STAGES.prod });
    const result = await packageService({ serviceDir, outDir: join(dir, 'serverless'), stage: 'prod', allowMissing: true, timeoutMs: 90_000 });
    outcome = { ok: true, result: { ...result, elapsedMs: Date.now() - started } };
  } catch (err) {
    outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  writeFileSync(`${resultFile}.tmp`, JSON.stringify(outcome));
  // rename is atomic: a waiter never reads half a file.
  renameSync(`${resultFile}.tmp`, resultFile);
  if (!outcome.ok) throw new Error(outcome.error);
  return outcome.result;
}

async function waitForResult(file: string, timeoutMs: number): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no packaging result after ${timeoutMs} ms (${file})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Outcome;
}
