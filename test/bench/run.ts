/**
 * `npm run bench`: runs every bench module and prints one Markdown table per section.
 *   npm run bench               # all
 *   npm run bench -- spot       # only the modules named
 */
import { renderSection, type BenchSection } from './table.ts';

const MODULES: Record<string, () => Promise<{ run: () => Promise<BenchSection[]> }>> = {
  spot: () => import('./spot.ts'),
  sweeper: () => import('./sweeper.ts'),
  'pod-events': () => import('./pod-events.ts'),
  bundles: () => import('./bundles.ts'),
  account: () => import('./account.ts'),
  reclaim: () => import('./reclaim.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const started = performance.now();
for (const [name, load] of Object.entries(MODULES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  let mod: { run: () => Promise<BenchSection[]> };
  try {
    mod = await load();
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') continue;
    throw err;
  }
  for (const section of await mod.run()) console.log(`${renderSection(section)}\n`);
}
console.log(`_bench took ${((performance.now() - started) / 1000).toFixed(0)} s on ${process.platform}/${process.arch}, Node ${process.version}_`);
