// Runs one bundled Lambda handler once, in a fresh plain-node process (no tsx, no test code), the way the
// nodejs22.x runtime would: import the bundle, invoke `handler(event, context)`, report the wall time and
// the process's peak resident memory (getrusage maxRSS) as one JSON line on stdout.
//   node test/bench/lambda-runner.mjs dist/sweeper/index.mjs events/scheduled-sweep.json
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 900_000 };
const importStart = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const importMs = performance.now() - importStart;
const start = performance.now();
let result;
let error;
try {
  result = await handler(event, context);
} catch (err) {
  error = `${err?.name}: ${err?.message}`;
}
const ms = performance.now() - start;
process.stdout.write(`${JSON.stringify({ ms, importMs, maxRssMB: process.resourceUsage().maxRSS / 1024, result, error })}\n`);
process.exit(0);
