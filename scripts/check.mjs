#!/usr/bin/env node
// `npm test`: the type check (tsc --noEmit), the lint (eslint .) and the tests (vitest run) at the same time.
//
// The type check is TypeScript 7's native tsc (package alias typescript7): the same checks as 5.9 on this
// tree in 3.4 s instead of 11.8 s (user CPU 5.6 s vs 18.2 s), which is what keeps npm test under 60 s on two
// cores. typescript 5.9 stays for typescript-eslint's parser (it supports < 6.1) and editors.
//
// Why all at once: tsc and eslint are each one mostly single-threaded process (~3 s and ~7 s on this 2-core
// machine) and many test files wait on I/O (moto, terraform, loopback latency), so side by side the machine's
// two cores stay busy instead of idling through three phases in turn. Neither check keeps a cache: CI
// starts from a clean clone, and a check that is only fast when warm would hide its real cost. vitest
// streams its output; each check's output is printed whole when it finishes (never interleaved), and the
// exit code is non-zero if any of the three failed. Plain JavaScript so it starts without a TypeScript loader.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// --deep (npm run test:deep; every run of npm run test:repeat): the randomized suites at their full counts
// (test/integration/case-counts.ts): 500 concurrent-writer property cases instead of 100, 10,000 fuzz
// cases per handler instead of 2,000, the fuzz at a fresh random seed (printed, to reproduce a failure),
// and every SDK call to the fake AWS over its loopback socket instead of in process
// (test/fakes/aws/transport.ts). Variables already set win, so one can still be pinned.
const deep = process.argv.includes('--deep');
const vitestArgs = process.argv.slice(2).filter((a) => a !== '--deep');
const testEnv = { ...process.env };
if (deep) {
  testEnv.QUIESCE_PROPERTY_RUNS ||= '500';
  testEnv.QUIESCE_FUZZ_CASES ||= '10000';
  testEnv.FUZZ_SEED ||= String(Math.floor(Math.random() * 2 ** 31));
  testEnv.QUIESCE_TEST_TRANSPORT ||= 'socket';
  console.log(`deep run: QUIESCE_PROPERTY_RUNS=${testEnv.QUIESCE_PROPERTY_RUNS} QUIESCE_FUZZ_CASES=${testEnv.QUIESCE_FUZZ_CASES} FUZZ_SEED=${testEnv.FUZZ_SEED} QUIESCE_TEST_TRANSPORT=${testEnv.QUIESCE_TEST_TRANSPORT}`);
}

const steps = [
  // --singleThreaded: the same checks without tsc's worker threads, which only compete with eslint and
  // vitest for the two cores here: 7.0 -> 5.2 s of CPU (mean of 5 runs each).
  { name: 'typecheck (tsc --noEmit, TypeScript 7)', cmd: join(root, 'node_modules', 'typescript7', 'bin', 'tsc'), args: ['--noEmit', '--singleThreaded'] },
  { name: 'lint (eslint .)', cmd: bin('eslint'), args: ['.'] },
  { name: `tests (vitest run${deep ? ', deep' : ''})`, cmd: bin('vitest'), args: ['run', ...vitestArgs], stream: true, env: testEnv },
];

function run(step) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(step.cmd, step.args, { cwd: root, env: step.env ?? process.env, stdio: step.stream ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'] });
    let output = '';
    if (step.stream) {
      child.on('error', (err) => resolve({ ...step, code: 1, output: `${err.message}\n`, ms: performance.now() - started }));
      child.on('close', (code) => resolve({ ...step, code: code ?? 1, output: '', ms: performance.now() - started }));
      return;
    }
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ ...step, code: 1, output: `${output}${err.message}\n`, ms: performance.now() - started }));
    child.on('close', (code) => resolve({ ...step, code: code ?? 1, output, ms: performance.now() - started }));
  });
}

const results = await Promise.all(steps.map(run));
for (const r of results) {
  process.stdout.write(r.output);
  console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name} in ${(r.ms / 1000).toFixed(1)} s`);
}
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
