/**
 * The command-line tools the deliverable checks run, found once per file. A check whose tool is absent
 * is skipped with the reason in its title (never passed silently): `needs('cfn-lint')` gives the suffix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectHome } from '../../bin/render.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Whether `cmd --version` (or the given probe args) runs and exits 0. */
export function available(cmd: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

/**
 * Whether an executable named `cmd` is on PATH, without running it. For a tool whose every start is
 * expensive (`cfn-lint --version` is a Python start that imports all of cfn-lint: 2 s of CPU just to
 * ask); a tool on PATH that then fails to run fails its check loudly instead of skipping it.
 */
export function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return statSync(join(dir, cmd)).isFile();
    } catch {
      return false;
    }
  });
}

/** A title suffix saying why a check is skipped, or '' when it runs. */
export function skipReason(ok: boolean, why: string): string {
  return ok ? '' : ` (SKIPPED: ${why})`;
}

/** One finished command: exit code and both streams. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without a shell (asynchronously, so checks in one file can overlap), bounded in time. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** The remote bases of this project a kustomization names (`<repository>//<path>?ref=<ref>`), with their paths and refs. */
export function remoteBases(text: string): { url: string; path: string; ref: string }[] {
  const home = projectHome().repository.replaceAll('.', '\\.');
  return [...text.matchAll(new RegExp(`${home}//([\\w/.-]+)\\?ref=([\\w.-]+)`, 'g'))].map((m) => ({ url: m[0], path: m[1] ?? '', ref: m[2] ?? '' }));
}

/**
 * Renders a kustomization with kubectl; the objects it produced, or kubectl's error. A kustomization whose
 * resources are this project's remote bases at a release tag (the example overlay, `npm run render`'s
 * output) is rendered from a copy in which each is this checkout's same path instead: no network here, and
 * the checkout is what that tag will be (the release test checks the ref is this version's tag).
 */
export async function renderKustomization<T = Record<string, unknown>>(dir: string): Promise<{ ok: true; objects: T[] } | { ok: false; error: string }> {
  let target = dir;
  let scratch: string | undefined;
  const files = readdirSync(dir).filter((f) => /^kustomization\.ya?ml$/.test(f));
  if (files.some((f) => remoteBases(readFileSync(join(dir, f), 'utf8')).length > 0)) {
    scratch = mkdtempSync(join(tmpdir(), 'quiesce-kustomize-local-'));
    cpSync(dir, scratch, { recursive: true });
    for (const f of files) {
      let text = readFileSync(join(scratch, f), 'utf8');
      // kustomize takes no absolute base: relative to the copy.
      for (const b of remoteBases(text)) text = text.replace(b.url, relative(scratch, join(root, b.path)));
      writeFileSync(join(scratch, f), text);
    }
    target = scratch;
  }
  try {
    const r = await run('kubectl', ['kustomize', target], { timeoutMs: 60_000 });
    if (r.code !== 0) return { ok: false, error: r.stderr || r.stdout };
    return { ok: true, objects: parseAllDocuments(r.stdout).map((d) => d.toJS() as T).filter((o) => o !== null) };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
