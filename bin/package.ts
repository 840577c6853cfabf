/**
 * `npm run package`: build every Lambda bundle (bin/build.ts, the one build shared with the tests and
 * the bench), zip each one deterministically into dist/lambda/<function>.zip, then run `osls package`
 * offline into .serverless/. serverless.yml points each function's `package.artifact` at these zips, so
 * osls never bundles anything itself (no plugin, no second build). The stage's settings come from its file,
 * infra/stages/<stage>.yml (infra/stage-settings.cjs), as for `osls deploy`: there is nothing else to pass.
 *
 * Offline and credential-free on purpose: CI has no AWS account, and a reviewer must be able to read the
 * CloudFormation before anyone deploys it. osls 4.3 `package` makes no AWS call; the child gets a scrubbed
 * environment (no AWS_* credentials or endpoints) to prove it, and telemetry/notifications off.
 *
 *   npm run package -- --stage prod          # what `npx osls deploy --stage prod` uploads (infra/stages/prod.yml)
 *   npm run package -- --stage prod --allow-missing   # while triggers are still being written (placeholders)
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAll, FUNCTIONS } from './build.ts';
import { stringify } from 'yaml';
import { zip } from './zip.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the zips go (serverless.yml's `package.artifact` paths). */
export const ARTIFACT_DIR = join(root, 'dist', 'lambda');

/** Text of a placeholder bundle: it refuses every invocation, so a placeholder can never act by accident. */
const PLACEHOLDER = (name: string): string =>
  `export const handler = async () => { throw new Error(${JSON.stringify(`quiesce: ${name} is not built in this package (placeholder from --allow-missing)`)}); };\n`;

/** Options of {@link packageService}. */
export interface PackageOptions {
  /** The stage: its settings are infra/stages/<stage>.yml of the service directory. */
  readonly stage: string;
  /** osls output directory (default .serverless/ in the service directory). */
  readonly outDir?: string;
  /**
   * The directory with serverless.yml and infra/ that osls packages (default: the repository). Tests and
   * the release package a copy with stage files of their own (its dist/lambda must hold the zips).
   */
  readonly serviceDir?: string;
  /** Build and zip the functions first (default true); false packages the zips already in dist/lambda. */
  readonly build?: boolean;
  /**
   * Write a placeholder zip for a function whose handler does not exist yet, instead of failing. Only for
   * CI while triggers land one by one: a placeholder throws on every call, and the result names it.
   */
  readonly allowMissing?: boolean;
  /** More osls arguments (the tests show what it refuses with them). */
  readonly extraArgs?: readonly string[];
  /** Extra environment for osls (the release's QUIESCE_VERSION). */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
  /** Kill osls after this long (default 120 s): a hung child must not hang CI. */
  readonly timeoutMs?: number;
}

/** What {@link packageService} made, with timings for the report. */
export interface PackageResult {
  readonly templatePath: string;
  readonly templateBytes: number;
  readonly built: readonly { name: string; zip: string; bytes: number }[];
  readonly placeholders: readonly string[];
  readonly buildMs: number;
  readonly oslsMs: number;
}

/** The environment the osls child gets: no credentials, no endpoints, no telemetry. */
export function offlineEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('AWS_') && !k.startsWith('SLS_') && !k.startsWith('SERVERLESS_')) out[k] = v;
  return { ...out, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*', FORCE_COLOR: '0', CI: '1' };
}

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`osls package timed out after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, output });
    });
  });
}

/**
 * A copy of what osls packages (serverless.yml and infra/) in `dir`, with these stage files added to its
 * infra/stages/ and dist/lambda pointing at the repository's zips. The tests package stages of their own in
 * it and the release its template, without writing a stage file into the repository.
 */
export function serviceCopy(dir: string, stages: Readonly<Record<string, Readonly<Record<string, unknown>>>>): string {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  for (const f of ['serverless.yml', 'package.json']) cpSync(join(root, f), join(dir, f));
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(root, 'bin', 'osls-build.cjs'), join(dir, 'bin', 'osls-build.cjs'));
  cpSync(join(root, 'infra'), join(dir, 'infra'), { recursive: true, filter: (src) => !/[/\\](\.terraform|terraform\.tfstate[^/\\]*)$/.test(src) });
  for (const [stage, settings] of Object.entries(stages)) writeFileSync(join(dir, 'infra', 'stages', `${stage}.yml`), stringify(settings));
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  if (!existsSync(join(dir, 'dist', 'lambda'))) symlinkSync(ARTIFACT_DIR, join(dir, 'dist', 'lambda'), 'dir');
  return dir;
}

/** Builds and zips every function into dist/lambda (placeholders for missing handlers when allowed). */
export async function buildZips(options: { allowMissing?: boolean; log?: (line: string) => void } = {}): Promise<{ built: PackageResult['built']; placeholders: string[] }> {
  const log = options.log ?? (() => undefined);
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const missing = FUNCTIONS.filter((name) => !existsSync(join(root, 'functions', name, 'handler.ts')));
  if (missing.length > 0 && !options.allowMissing) {
    throw new Error(`functions/${missing[0]}/handler.ts does not exist: refusing to package a deployable service without it (use --allow-missing for a placeholder that refuses every call)`);
  }
  // One esbuild build for every bundle (bin/build.ts buildAll): the shared modules are parsed once.
  const bundles = new Map((await buildAll()).map((b) => [b.name, b.outfile]));
  const built: { name: string; zip: string; bytes: number }[] = [];
  const placeholders: string[] = [];
  for (const name of FUNCTIONS) {
    const zipPath = join(ARTIFACT_DIR, `${name}.zip`);
    const outfile = bundles.get(name);
    const code = outfile ? readFileSync(outfile) : Buffer.from(PLACEHOLDER(name));
    if (!outfile) placeholders.push(name);
    const archive = zip([{ name: 'index.mjs', data: code }]);
    writeFileSync(zipPath, archive);
    built.push({ name, zip: zipPath, bytes: archive.length });
    log(`${name.padEnd(18)} ${(archive.length / 1024).toFixed(1).padStart(7)} KB zip${placeholders.includes(name) ? '  (PLACEHOLDER: handler not written yet)' : ''}`);
  }
  return { built, placeholders };
}

/** The zips already in dist/lambda, as {@link buildZips} reports them (none may be missing). */
function existingZips(): { built: PackageResult['built']; placeholders: string[] } {
  const built = FUNCTIONS.map((name) => {
    const zipPath = join(ARTIFACT_DIR, `${name}.zip`);
    if (!existsSync(zipPath)) throw new Error(`${zipPath} does not exist: build the zips first (npm run package, or build: true)`);
    return { name, zip: zipPath, bytes: statSync(zipPath).size };
  });
  return { built, placeholders: [] };
}

/** Builds, zips and runs `osls package`. Throws with osls's output when it fails. */
export async function packageService(options: PackageOptions): Promise<PackageResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const { built, placeholders } = options.build === false ? existingZips() : await buildZips(options);
  const buildMs = Date.now() - started;

  const serviceDir = options.serviceDir ?? root;
  const outDir = options.outDir ?? join(serviceDir, '.serverless');
  rmSync(outDir, { recursive: true, force: true });
  const args = [join(root, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', options.stage, '--package', outDir, ...(options.extraArgs ?? [])];
  const oslsStarted = Date.now();
  // The zips are built (or given): the osls plugin of serverless.yml (bin/osls-build.cjs) need not build them.
  const { code, output } = await run(process.execPath, args, serviceDir, { ...offlineEnv(), QUIESCE_ZIPS_BUILT: '1', ...options.env }, options.timeoutMs ?? 120_000);
  const oslsMs = Date.now() - oslsStarted;
  if (code !== 0) throw new Error(`osls package failed (exit ${code}):\n${output}`);
  const templatePath = join(outDir, 'cloudformation-template-update-stack.json');
  if (!existsSync(templatePath)) throw new Error(`osls package wrote no template at ${templatePath}:\n${output}`);
  const templateBytes = statSync(templatePath).size;
  log(`osls package: ${oslsMs} ms, template ${(templateBytes / 1024).toFixed(1)} KB -> ${templatePath}`);
  return { templatePath, templateBytes, built, placeholders, buildMs, oslsMs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      package: { type: 'string' },
      'allow-missing': { type: 'boolean', default: false },
      'zips-only': { type: 'boolean', default: false },
    },
  });
  try {
    if (values['zips-only']) {
      // What `osls package` / `osls deploy` runs first (bin/osls-build.cjs): every function built and zipped.
      await buildZips({ log: (l) => console.log(l) });
      process.exit(0);
    }
    if (!values.stage) throw new Error('usage: npm run package -- --stage <stage> [--package <dir>] [--allow-missing]   (settings: infra/stages/<stage>.yml)');
    const r = await packageService({
      stage: values.stage,
      ...(values.package ? { outDir: resolve(values.package) } : {}),
      allowMissing: values['allow-missing'],
      log: (l) => console.log(l),
    });
    console.log(`packaged in ${r.buildMs + r.oslsMs} ms (build+zip ${r.buildMs} ms, osls ${r.oslsMs} ms)`);
    if (r.placeholders.length > 0) console.warn(`WARNING: placeholders (do not deploy): ${r.placeholders.join(', ')}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
