#!/usr/bin/env node
// The `quiesce` command (package.json "bin"): a launcher that runs the TypeScript CLI (functions/cli/main.ts)
// through tsx's loader. Why not a prebuilt bundle: the CLI is run from a clone of this repository, next to
// the Lambdas' sources; running the sources means the CLI can never be a stale build of a different core
// than the one being deployed, and there is no second build to forget. tsx is a devDependency, so this needs
// `npm ci` (not `--omit=dev`), which is how the repository is used.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main, processIo } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), processIo());
