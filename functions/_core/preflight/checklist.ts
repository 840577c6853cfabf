/**
 * The preflight's answer: a checklist, one line per thing a function needs, each passed or failed with the
 * evidence and, for a failure, the fix. Why a checklist and not a boolean: an operator proving a stage before
 * it writes must see what was checked (a pass proves only what it names) and act on each failure without
 * reading code; CI needs an exit code. Pure: built by the checks (functions/_core/preflight/), printed by
 * `quiesce doctor` and logged and published by a function's cold start in dry run.
 */

/** The functions a stage runs that the preflight checks (the forwarder is checked through its last publish). */
export type PreflightFunction = 'spot-interruption' | 'sweeper' | 'pod-events' | 'traffic-shift';

/** Every function the preflight knows, in the order it prints them. */
export const PREFLIGHT_FUNCTIONS: readonly PreflightFunction[] = ['spot-interruption', 'sweeper', 'pod-events', 'traffic-shift'];

/** `skip`: not checked, and why (nothing in scope, a permission the caller lacks); never a failure. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One line of the checklist. */
export interface Check {
  readonly fn: PreflightFunction;
  /** Stable id of what is checked (`cluster.list.endpointslices`, `write.DeregisterTargets`), for scripts. */
  readonly id: string;
  /** What is checked, in words. */
  readonly title: string;
  readonly status: CheckStatus;
  /** The evidence: what was found (counts, names, the error AWS or the API server answered). */
  readonly detail: string;
  /** For a failure: what to do. */
  readonly fix?: string;
}

/** A whole preflight. */
export interface Checklist {
  readonly stage: string;
  readonly cluster: string;
  /** Whose credentials the checks ran with, per function (its role assumed, or the caller's). */
  readonly as: Readonly<Partial<Record<PreflightFunction, string>>>;
  readonly checks: readonly Check[];
  /** True when no line failed. */
  readonly ok: boolean;
}

/** Builds the checklist of a run. */
export function checklist(stage: string, cluster: string, as: Checklist['as'], checks: readonly Check[]): Checklist {
  return { stage, cluster, as, checks, ok: checks.every((c) => c.status !== 'fail') };
}

/** Shorthands the checks use. */
export const pass = (fn: PreflightFunction, id: string, title: string, detail: string): Check => ({ fn, id, title, status: 'pass', detail });
export const fail = (fn: PreflightFunction, id: string, title: string, detail: string, fix: string): Check => ({ fn, id, title, status: 'fail', detail, fix });
export const skip = (fn: PreflightFunction, id: string, title: string, detail: string): Check => ({ fn, id, title, status: 'skip', detail });

/** The error of a failed call, as a line says it: its AWS (or Kubernetes) name and message. */
export function errorText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown };
  return `${typeof e?.name === 'string' ? e.name : 'Error'}: ${typeof e?.message === 'string' ? e.message : String(err)}`;
}

/** Whether an error is AWS saying "not allowed" (the caller's or the role's permissions). */
export function isAccessDenied(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return typeof name === 'string' && /AccessDenied|UnauthorizedOperation|NotAuthorized|AuthorizationError/i.test(name);
}

/** The checklist as text: a line per check, failures with their fix, a summary last. */
export function formatChecklist(list: Checklist): string {
  const mark: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };
  const out: string[] = [`quiesce doctor: stage ${list.stage}, cluster ${list.cluster}`];
  let fn: PreflightFunction | undefined;
  for (const c of list.checks) {
    if (c.fn !== fn) {
      fn = c.fn;
      out.push('', `${fn} (as ${list.as[fn] ?? 'the caller'})`);
    }
    out.push(`  ${mark[c.status]}  ${c.title}: ${c.detail}`);
    if (c.status === 'fail' && c.fix) out.push(`        fix: ${c.fix}`);
  }
  const count = (s: CheckStatus): number => list.checks.filter((c) => c.status === s).length;
  out.push('', `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped: ${list.ok ? 'the stage is ready' : 'fix the failures above before turning dry run off'}`);
  return `${out.join('\n')}\n`;
}
