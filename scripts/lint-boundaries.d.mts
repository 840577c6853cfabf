/** The types of lint-boundaries.mjs (plain JavaScript, so ESLint loads it without a TypeScript loader). */
import type { ESLint } from 'eslint';

/** The trigger folders under functions/. */
export declare const TRIGGERS: readonly string[];

/** Why importing `source` from `file` (an absolute path) crosses a module boundary, or undefined when it does not. */
export declare function boundaryViolation(file: string, source: string): string | undefined;

/** The plugin eslint.config.js registers as `quiesce` (rule `quiesce/boundaries`). */
declare const plugin: ESLint.Plugin;
export default plugin;
