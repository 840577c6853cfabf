/**
 * The module boundaries hold by lint (scripts/lint-boundaries.mjs, on in eslint.config.js): planted imports
 * across them fail `npm run lint`, and the tree as it is passes. ESLint's Node API lints text under a file
 * path, so nothing is written to the tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { boundaryViolation } from '../../../scripts/lint-boundaries.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The boundary findings for `code` linted as if it were `filePath`, with the project's own configuration. */
async function crossings(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'quiesce/boundaries').map((m) => m.message);
}

describe('module boundaries (lint)', () => {
  it('fails on a trigger importing another trigger, however the path is spelled', async () => {
    expect(await crossings('functions/sweeper/planted.ts', "import { deregisterNodes } from '../spot-interruption/workflow.ts';\nexport const x = deregisterNodes;\n")).toEqual([
      expect.stringMatching(/^trigger sweeper imports trigger spot-interruption \(\.\.\/spot-interruption\/workflow\.ts\): no trigger imports another/),
    ]);
    expect(await crossings('functions/spot-interruption/stages/planted.ts', "import type { SweepDeps } from '../../sweeper/run-sweep.ts';\nexport type X = SweepDeps;\n")).toHaveLength(1);
    expect(await crossings('functions/pod-events/planted.ts', "export { dispatch } from '../traffic-shift/handler.ts';\nexport const later = () => import('../deploy-webhook/webhook.ts');\n")).toHaveLength(2);
    expect(await crossings('functions/traffic-shift/planted.ts', "import { main } from '../cli/main.ts';\nexport const x = main;\n")).toEqual([expect.stringMatching(/imports the CLI/)]);
    // Within one trigger, and through the core: fine.
    expect(await crossings('functions/spot-interruption/stages/planted.ts', "import type { NodeWorkflowDeps } from '../types.ts';\nimport { guardPlan } from '#core/domain/guards.ts';\nexport const x = guardPlan;\nexport type Y = NodeWorkflowDeps;\n")).toEqual([]);
  });

  it('fails on the CLI importing a handler module, not on the trigger\'s other modules', async () => {
    expect(await crossings('functions/cli/planted.ts', "import { toWorkItem } from '../spot-interruption/handler.ts';\nexport const x = toWorkItem;\n")).toEqual([
      expect.stringMatching(/^the CLI imports a handler module \(\.\.\/spot-interruption\/handler\.ts\)/),
    ]);
    expect(await crossings('functions/cli/planted.ts', "import { toWorkItem } from '../spot-interruption/inputs.ts';\nimport { planOfSync } from '../traffic-shift/shift.ts';\nexport const x = [toWorkItem, planOfSync];\n")).toEqual([]);
  });

  it('fails on the domain importing an adapter or an SDK, and on the core importing a trigger', async () => {
    const planted = "import { ApiBudget } from '#core/adapters/aws/budget.ts';\nimport { Ec2Client } from '../adapters/aws/ec2.ts';\nimport { EC2Client } from '@aws-sdk/client-ec2';\nexport const x = [ApiBudget, Ec2Client, EC2Client];\n";
    const found = await crossings('functions/_core/domain/planted.ts', planted);
    expect(found).toEqual([
      expect.stringMatching(/^functions\/_core\/domain imports an adapter \(#core\/adapters\/aws\/budget\.ts\)/),
      expect.stringMatching(/^functions\/_core\/domain imports an adapter \(\.\.\/adapters\/aws\/ec2\.ts\)/),
      expect.stringMatching(/^functions\/_core\/domain imports no SDK \(@aws-sdk\/client-ec2\)/),
    ]);
    // An adapter may use both.
    expect(await crossings('functions/_core/adapters/aws/planted.ts', planted)).toEqual([]);
    expect(await crossings('functions/_core/observe/planted.ts', "import { runSweep } from '../../sweeper/run-sweep.ts';\nexport const x = runSweep;\n")).toEqual([expect.stringMatching(/the core knows no trigger/)]);
  });

  it('passes on the tree: no import under functions/ crosses a boundary', async () => {
    // The rule's own judgement over every import of every file (TypeScript's import scanner: fast, no full
    // parse); `npm run lint` runs the rule itself over the tree too.
    const files = readdirSync(join(root, 'functions'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mjs|js)$/.test(f)).map((f) => join(root, 'functions', f));
    expect(files.length).toBeGreaterThan(100);
    const imports = files.flatMap((file) => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => ({ file, source: i.fileName })));
    expect(imports.length).toBeGreaterThan(500);
    expect(imports.flatMap(({ file, source }) => boundaryViolation(file, source) ?? [])).toEqual([]);
  });
});
