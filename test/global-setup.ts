/**
 * vitest globalSetup: one scratch directory per `vitest run`, shared by every worker, for work that must
 * happen once per run whichever test file asks first (the packaged CloudFormation, test/package/packaged.ts).
 * Removed when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's scratch directory (see test/global-setup.ts). */
    runDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-vitest-run-'));
  project.provide('runDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
