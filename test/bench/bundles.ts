/**
 * Bundle size and cold-start import time of each Lambda function (esbuild, minified, SDK bundled), next to
 * a bare SDK + middy bundle: what quiesce's own code and dependencies cost a cold start.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildAll, buildFunction } from '../../bin/build.ts';
import { median } from './table.ts';
import type { BenchSection } from './table.ts';

const RUNS = 9;

/** Median wall time of `import(file)` in a fresh node process. */
function importMs(file: string): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=performance.now();import(${JSON.stringify(file)}).then(()=>process.stdout.write(String(performance.now()-t)))`], {
      env: { ...process.env, AWS_REGION: 'us-east-1', CLUSTER_NAME: 'bench' },
    });
    samples.push(Number(out.toString()));
  }
  return median(samples);
}

/** The bundle section. */
export async function run(): Promise<BenchSection[]> {
  const bare = fileURLToPath(new URL('./fixtures/bare-handler.ts', import.meta.url));
  const rows: (string | number)[][] = [];
  const baseline = await buildFunction('bare SDK (ELBv2) + middy', bare, join(tmpdir(), 'quiesce-bench-bare'));
  for (const b of [baseline, ...(await buildAll())]) rows.push([b.name, (b.bytes / 1024).toFixed(0), importMs(b.outfile).toFixed(1)]);
  return [
    {
      title: 'Lambda bundles (esbuild, minified, ESM, SDK bundled)',
      columns: ['function', 'bundle KB', `cold import ms (median of ${RUNS} fresh processes)`],
      rows,
      notes: [
        `Node ${process.version} on this machine; the nodejs22.x runtime imports somewhat faster.`,
        '@aws-sdk/client-ec2 alone is ~550 KB of a spot bundle: its schema module is one 1.3 MB file that esbuild cannot shake.',
      ],
    },
  ];
}
