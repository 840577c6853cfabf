/**
 * `npm run package`: build every Lambda bundle (scripts/build.ts, the one build shared with the tests and
 * the bench), zip each one deterministically into dist/lambda/<function>.zip, then run `osls package`
 * offline into .serverless/. serverless.yml points each function's `package.artifact` at these zips, so
 * osls never bundles anything itself (no plugin, no second build).
 *
 * Offline and credential-free on purpose: CI has no AWS account, and a reviewer must be able to read the
 * CloudFormation before anyone deploys it. osls 4.3 `package` makes no AWS call; the child gets a scrubbed
 * environment (no AWS_* credentials or endpoints) to prove it, and telemetry/notifications off.
 *
 *   npm run package                          # stage dev, every function must exist
 *   npm run package -- --stage prod          # what `osls deploy --stage prod` would upload
 *   npm run package -- --allow-missing       # while other triggers are still being written (placeholders)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildFunction, FUNCTIONS } from '../scripts/build.ts';
import { zip } from './zip.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the zips go (serverless.yml's `package.artifact` paths). */
export const ARTIFACT_DIR = join(root, 'dist', 'lambda');

/** Text of a placeholder bundle: it refuses every invocation, so a placeholder can never act by accident. */
const PLACEHOLDER = (name: string): string =>
  `export const handler = async () => { throw new Error(${JSON.stringify(`quiesce: ${name} is not built in this package (placeholder from --allow-missing)`)}); };\n`;

/** Options of {@link packageService}. */
export interface PackageOptions {
  readonly stage?: string;
  readonly region?: string;
  /** osls output directory (default .serverless/ in the repository). */
  readonly outDir?: string;
  /**
   * Write a placeholder zip for a function whose handler does not exist yet, instead of failing. Only for
   * CI while triggers land one by one: a placeholder throws on every call, and the result names it.
   */
  readonly allowMissing?: boolean;
  /** Extra `--param key=value` overrides for osls. */
  readonly params?: Readonly<Record<string, string>>;
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

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Builds, zips and runs `osls package`. Throws with osls's output when it fails. */
export async function packageService(options: PackageOptions = {}): Promise<PackageResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const built: { name: string; zip: string; bytes: number }[] = [];
  const placeholders: string[] = [];
  for (const name of FUNCTIONS) {
    const entry = join(root, 'functions', name, 'handler.ts');
    const zipPath = join(ARTIFACT_DIR, `${name}.zip`);
    let code: Buffer;
    if (existsSync(entry)) {
      const b = await buildFunction(name, entry);
      code = readFileSync(b.outfile);
    } else if (options.allowMissing) {
      placeholders.push(name);
      code = Buffer.from(PLACEHOLDER(name));
    } else {
      throw new Error(`functions/${name}/handler.ts does not exist: refusing to package a deployable service without it (use --allow-missing for a placeholder that refuses every call)`);
    }
    const archive = zip([{ name: 'index.mjs', data: code }]);
    writeFileSync(zipPath, archive);
    built.push({ name, zip: zipPath, bytes: archive.length });
    log(`${name.padEnd(18)} ${(archive.length / 1024).toFixed(1).padStart(7)} KB zip${placeholders.includes(name) ? '  (PLACEHOLDER: handler not written yet)' : ''}`);
  }
  const buildMs = Date.now() - started;

  const outDir = options.outDir ?? join(root, '.serverless');
  rmSync(outDir, { recursive: true, force: true });
  const args = [join(root, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', options.stage ?? 'dev', '--package', outDir];
  if (options.region) args.push('--region', options.region);
  for (const [k, v] of Object.entries(options.params ?? {})) args.push('--param', `${k}=${v}`);
  const oslsStarted = Date.now();
  const { code, output } = await run(process.execPath, args, offlineEnv(), options.timeoutMs ?? 120_000);
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
      stage: { type: 'string', default: 'dev' },
      region: { type: 'string' },
      package: { type: 'string' },
      'allow-missing': { type: 'boolean', default: false },
      param: { type: 'string', multiple: true },
    },
  });
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--param expects key=value, got "${p}"`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  try {
    const r = await packageService({
      stage: values.stage,
      ...(values.region ? { region: values.region } : {}),
      ...(values.package ? { outDir: resolve(values.package) } : {}),
      allowMissing: values['allow-missing'],
      params,
      log: (l) => console.log(l),
    });
    console.log(`packaged in ${r.buildMs + r.oslsMs} ms (build+zip ${r.buildMs} ms, osls ${r.oslsMs} ms)`);
    if (r.placeholders.length > 0) console.warn(`WARNING: placeholders (do not deploy): ${r.placeholders.join(', ')}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
