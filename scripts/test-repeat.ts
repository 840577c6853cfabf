/**
 * `npm run test:repeat -- N`: runs the whole `npm test` (type check, lint, every test) N times in a row
 * while a busy-loop process per core keeps the machine's cores loaded, then prints each run's result and
 * wall time in a table. Exits non-zero if any run failed.
 *
 * Why: CI decides whether work lands, so a test that fails one run in twenty blocks everyone. Such tests
 * pass on an idle machine and fail when the runner is starved (timers fire late, a server answers slowly,
 * an event arrives in another order), which is how CI machines shared with other work behave. This makes
 * that condition the default way to ask "is the suite green?".
 *
 * Each run is the deep run (`npm test -- --deep`, scripts/check.mjs): the randomized suites at their full
 * counts, the property and the fuzz at fresh seeds, so N repeats also explore N times the inputs one
 * `npm test` does (a seed that fails is in that run's log). `--counts default` repeats plain `npm test`.
 *
 *   npm run test:repeat -- 20                       # 20 deep runs, one busy loop per core
 *   npm run test:repeat -- 5 --busy 0               # 5 deep runs on an otherwise idle machine
 *   npm run test:repeat -- 3 --counts default       # 3 runs of npm test as CI runs it
 *
 * Each run's full output goes to a log file (path in the table) so a failure can be read afterwards; the
 * names of failed tests are printed under the table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The outcome of one `npm test` run. */
export interface RunResult {
  readonly run: number;
  readonly ok: boolean;
  readonly exitCode: number;
  readonly wallMs: number;
  /** vitest's "Tests  N passed (M)" line, or what failed before vitest ran (typecheck, lint). */
  readonly summary: string;
  readonly failed: readonly string[];
  readonly log: string;
}

// eslint-disable-next-line no-control-regex -- stripping terminal colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads what a run's output says: vitest's test count, failed test names, or the step that failed first.
 * Exported for the unit test; the table must not claim "passed" from an exit code alone.
 */
export function summarize(output: string, exitCode: number): { summary: string; failed: string[] } {
  const text = output.replace(ANSI, '');
  const tests = /^\s*Tests\s+(.+)$/m.exec(text)?.[1]?.trim();
  const failed = [...new Set([...text.matchAll(/^\s*(?:FAIL|×)\s+(.+?)\s*(?:\d+ms)?$/gm)].map((m) => m[1] ?? ''))].filter(Boolean);
  if (tests) return { summary: tests, failed };
  if (/error TS\d+/.test(text)) return { summary: 'type check failed', failed };
  if (/\d+ problems? \(\d+ errors?/.test(text)) return { summary: 'lint failed', failed };
  return { summary: exitCode === 0 ? 'no vitest summary' : `exit ${exitCode} before vitest`, failed };
}

/** Starts one busy-loop process per requested core; they run until {@link stopAll} kills them. */
function startBusyLoops(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function stopAll(children: readonly ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

function runOnce(run: number, logDir: string, deep: boolean): Promise<RunResult> {
  const log = join(logDir, `run-${String(run).padStart(2, '0')}.log`);
  const out = createWriteStream(log);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['test', ...(deep ? ['--', '--deep'] : [])], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      out.end(() => {
        const exitCode = code ?? 1;
        const { summary, failed } = summarize(readFileSync(log, 'utf8'), exitCode);
        resolve({ run, ok: exitCode === 0, exitCode, wallMs, summary, failed, log });
      });
    });
  });
}

/** The table printed after (and during) the runs: one row per run. */
export function table(results: readonly RunResult[]): string {
  const rows = results.map((r) => `| ${r.run} | ${r.ok ? 'pass' : 'FAIL'} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.summary} |`);
  return ['| run | result | wall | tests |', '|---|---|---|---|', ...rows].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { busy: { type: 'string', default: String(availableParallelism()) }, counts: { type: 'string', default: 'deep' } },
  });
  const runs = Number(positionals[0] ?? '5');
  const busy = Number(values.busy);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`the number of runs must be a positive integer, got "${positionals[0]}"`);
  if (!Number.isInteger(busy) || busy < 0) throw new Error(`--busy must be a whole number of processes, got "${values.busy}"`);
  if (values.counts !== 'deep' && values.counts !== 'default') throw new Error(`--counts must be deep or default, got "${values.counts}"`);
  const deep = values.counts === 'deep';

  const logDir = mkdtempSync(join(tmpdir(), 'quiesce-test-repeat-'));
  const loops = startBusyLoops(busy);
  // The busy loops die with this process whatever ends it: normal exit, an error, Ctrl-C or a kill.
  process.on('exit', () => stopAll(loops));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      stopAll(loops);
      process.exit(130);
    });
  }
  console.log(`npm test${deep ? ' -- --deep' : ''} x ${runs}, ${busy} busy-loop process(es) on ${availableParallelism()} core(s); logs in ${logDir}`);

  const results: RunResult[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const r = await runOnce(i, logDir, deep);
      results.push(r);
      console.log(`run ${i}/${runs}: ${r.ok ? 'pass' : 'FAIL'} in ${(r.wallMs / 1000).toFixed(1)} s (${r.summary})${r.ok ? '' : ` -> ${r.log}`}`);
    }
  } finally {
    stopAll(loops);
  }

  const failedRuns = results.filter((r) => !r.ok);
  const walls = results.map((r) => r.wallMs / 1000).sort((a, b) => a - b);
  console.log(`\n${table(results)}\n`);
  console.log(`${results.length - failedRuns.length}/${results.length} green; wall min ${walls[0]?.toFixed(1)} s, median ${walls[Math.floor(walls.length / 2)]?.toFixed(1)} s, max ${walls.at(-1)?.toFixed(1)} s`);
  for (const r of failedRuns) console.log(`run ${r.run} failed (${r.log}):${r.failed.map((f) => `\n  ${f}`).join('') || ' see the log'}`);
  process.exitCode = failedRuns.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
