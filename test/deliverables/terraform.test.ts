/**
 * Every terraform module under infra/ (each directory holding *.tf: the quiesce stack module, the
 * traffic-shift module, the example root) passes `terraform fmt -check`, and every root `terraform validate`
 * (which validates each module the root calls: the example root calls both modules), the checks a user's
 * pipeline runs before a plan. validate runs after `terraform init -backend=false
 * -plugin-dir=<mirror>` in a temporary copy of infra/terraform (the example root uses the modules by
 * relative path) with one error planted in a module the root calls (see `validate`), so nothing is
 * downloaded (plugin-dir turns off every registry), the repository stays clean, and one validate shows
 * both that the shipped tree is valid and that the check would see an error in a called module. The stack module mirrors the stage settings (a variable per stack parameter, the same defaults)
 * and the stack's outputs. The mirror comes from
 * TF_PLUGIN_DIR or the known path /opt/tf-plugins. A module whose providers are not all in the mirror
 * is skipped by name; fmt needs no provider and always runs.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { available, run, skipReason } from './tools.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Directories under infra/ with terraform files: each is one module. */
export function terraformModules(dir = join(root, 'infra')): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) out.push(d);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(join(d, e.name));
  };
  walk(dir);
  return out.sort();
}

/** The providers a module uses: `resource`/`data` type prefixes and required_providers entries. */
export function providersOf(moduleDir: string): string[] {
  const text = readdirSync(moduleDir)
    .filter((f) => f.endsWith('.tf'))
    .map((f) => readFileSync(join(moduleDir, f), 'utf8'))
    .join('\n');
  const names = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:resource|data)\s+"([a-z0-9]+)_/gm)) names.add(m[1] ?? '');
  for (const m of text.matchAll(/source\s*=\s*"(?:registry\.terraform\.io\/)?hashicorp\/([a-z0-9-]+)"/g)) names.add(m[1] ?? '');
  return [...names].sort();
}

const mirror = [process.env['TF_PLUGIN_DIR'], '/opt/tf-plugins'].find((d): d is string => !!d && existsSync(d));
const inMirror = (provider: string): boolean => !!mirror && existsSync(join(mirror, 'registry.terraform.io', 'hashicorp', provider));
// No version check against the network, no prompt; TF_CLI_CONFIG_FILE may name a file that is absent (a warning only).
const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };

/**
 * The error {@link validate} plants in modules/traffic-shift, a module the example root calls: a new file
 * whose output reads an undeclared variable. It sits in no block of the shipped files, so it hides none of
 * their errors: validate reports it beside whatever else is wrong.
 */
const PLANTED = { file: 'zz_planted_error.tf', text: 'output "quiesce_planted_error" {\n  value = var.quiesce_planted_error\n}\n', summary: 'Reference to undeclared input variable' };

/** A diagnostic of `terraform validate -json`. */
interface Diagnostic {
  readonly severity: string;
  readonly summary: string;
  readonly detail?: string;
  readonly range?: { readonly filename: string };
}

/**
 * `terraform validate -json` of the root `moduleDir` in a copy of infra/terraform with {@link PLANTED} in
 * modules/traffic-shift: its error diagnostics. One validate (one load of the 700 MB aws provider, ~4 s
 * of CPU) shows both that the shipped tree is valid (no error but the planted one) and that this check
 * reaches into the modules a root calls (the planted one is found), instead of a second validate of a
 * broken copy.
 */
async function validate(moduleDir: string, tree = join(root, 'infra', 'terraform')): Promise<{ errors: Diagnostic[]; output: string }> {
  const work = mkdtempSync(join(tmpdir(), 'quiesce-tf-'));
  workDirs.push(work);
  cpSync(tree, work, { recursive: true, filter: (src) => !src.includes(`${'/'}.terraform`) });
  writeFileSync(join(work, 'modules', 'traffic-shift', PLANTED.file), PLANTED.text);
  const cwd = join(work, relative(tree, moduleDir));
  const init = await run('terraform', ['init', '-backend=false', `-plugin-dir=${mirror}`, '-input=false', '-no-color'], { cwd, env, timeoutMs: 120_000 });
  if (init.code !== 0) return { errors: [{ severity: 'error', summary: 'terraform init failed' }], output: init.stdout + init.stderr };
  const v = await run('terraform', ['validate', '-json', '-no-color'], { cwd, env, timeoutMs: 120_000 });
  const parsed = JSON.parse(v.stdout || '{"diagnostics":[]}') as { diagnostics?: Diagnostic[] };
  return { errors: (parsed.diagnostics ?? []).filter((d) => d.severity === 'error'), output: v.stdout + v.stderr };
}

const isPlanted = (d: Diagnostic): boolean => d.summary === PLANTED.summary && (d.range?.filename ?? '').endsWith(`modules/traffic-shift/${PLANTED.file}`);
const workDirs: string[] = [];
let validated: Promise<{ errors: Diagnostic[]; output: string }> | undefined;

/** The modules another module of infra/ calls by relative path (`source = "../../modules/x"`), by directory. */
export function calledModules(modules: readonly string[]): Map<string, string> {
  const called = new Map<string, string>();
  for (const dir of modules) {
    const text = readdirSync(dir).filter((f) => f.endsWith('.tf')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const m of text.matchAll(/source\s*=\s*"(\.{1,2}\/[^"]+)"/g)) called.set(join(dir, m[1] ?? ''), dir);
  }
  return called;
}

const hasTerraform = available('terraform', ['version']);
const modules = terraformModules();
// `terraform validate` of a root validates every module it calls: a module the example root calls is validated
// with it (each validate loads the 700 MB aws provider: ~4 s of CPU).
const called = calledModules(modules);
if (!hasTerraform) console.warn('terraform checks SKIPPED: terraform is not on PATH');
else if (!mirror) console.warn('terraform validate SKIPPED: no provider mirror (set TF_PLUGIN_DIR or provide /opt/tf-plugins)');

describe.skipIf(!hasTerraform)(`terraform${skipReason(hasTerraform, 'terraform is not on PATH')}`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'quiesce-tf-broken-'));
  afterAll(() => {
    for (const d of [scratch, ...workDirs]) rmSync(d, { recursive: true, force: true });
  });

  it('finds the modules under infra/', () => {
    expect(modules.map((m) => relative(root, m))).toEqual(['infra/terraform/examples/stage', 'infra/terraform/modules/quiesce', 'infra/terraform/modules/traffic-shift']);
  });

  for (const dir of modules) {
    const name = relative(root, dir);
    it(`${name}: terraform fmt -check`, async () => {
      const r = await run('terraform', ['fmt', '-check', '-diff', '-no-color', dir], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    const caller = called.get(dir);
    if (caller) {
      it(`${name}: validated as a module of ${relative(root, caller)}`, () => {
        expect(readFileSync(join(caller, 'main.tf'), 'utf8')).toMatch(new RegExp(`source\\s+=\\s+"${relative(caller, dir).replaceAll('.', '\\.')}"`));
      });
      continue;
    }
    const missing = providersOf(dir).filter((p) => !inMirror(p));
    const why = !mirror ? 'no provider mirror' : `provider(s) ${missing.map((p) => `hashicorp/${p}`).join(', ')} not in the mirror ${mirror}`;
    if (mirror && missing.length > 0) console.warn(`terraform validate of ${name} SKIPPED: ${why}`);
    it.skipIf(!mirror || missing.length > 0)(`${name}: terraform validate${skipReason(!!mirror && missing.length === 0, why)}`, async () => {
      validated ??= validate(dir);
      const r = await validated;
      expect(r.errors.filter((d) => !isPlanted(d)), r.output).toEqual([]);
    }, 120_000);
  }
  it('catches a deliberately broken copy: unformatted, and an error in a module the example root calls', async () => {
    const broken = join(scratch, 'module');
    cpSync(join(root, 'infra', 'terraform'), broken, { recursive: true, filter: (src) => !src.includes('/.terraform') });
    const file = join(broken, 'modules', 'traffic-shift', 'main.tf');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('  vpc_id      = var.vpc_id');
    writeFileSync(file, text.replace('  vpc_id      = var.vpc_id', '  vpc_idd = var.vpc_id'));
    const fmt = await run('terraform', ['fmt', '-check', '-recursive', '-no-color', broken], { env });
    expect(fmt.code).not.toBe(0);
    if (!inMirror('aws')) return console.warn('terraform validate of the planted error SKIPPED: hashicorp/aws not in the mirror');
    // The example root's validate (above) ran with the planted error in modules/traffic-shift: it must find it.
    validated ??= validate(join(root, 'infra', 'terraform', 'examples', 'stage'));
    const r = await validated;
    expect(r.errors.filter(isPlanted), r.output).toHaveLength(1);
    expect(r.errors.find(isPlanted)?.detail).toMatch(/quiesce_planted_error/);
  }, 120_000);
});
