/**
 * The command-line tools the deliverable checks run, found once per file. A check whose tool is absent
 * is skipped with the reason in its title (never passed silently): `needs('cfn-lint')` gives the suffix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** Whether `cmd --version` (or the given probe args) runs and exits 0. */
export function available(cmd: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
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

/** Renders a kustomization with kubectl; the objects it produced, or kubectl's error. */
export async function renderKustomization<T = Record<string, unknown>>(dir: string): Promise<{ ok: true; objects: T[] } | { ok: false; error: string }> {
  const r = await run('kubectl', ['kustomize', dir], { timeoutMs: 60_000 });
  if (r.code !== 0) return { ok: false, error: r.stderr || r.stdout };
  return { ok: true, objects: parseAllDocuments(r.stdout).map((d) => d.toJS() as T).filter((o) => o !== null) };
}
