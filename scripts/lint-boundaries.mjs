// @ts-check
/**
 * The house's module boundaries as a lint rule (`quiesce/boundaries`, on in eslint.config.js), so they hold
 * by construction instead of by convention:
 *
 * - no trigger imports another trigger (functions/{spot-interruption,sweeper,pod-events,deploy-webhook,
 *   traffic-shift,pod-forwarder}) or the CLI: what two triggers share lives in functions/_core;
 * - the CLI imports no handler module (`handler.ts`): a handler builds its clients, logger and metrics at
 *   import, so the CLI takes what it needs from the trigger's other modules or from functions/_core;
 * - functions/_core imports no trigger and not the CLI: the core is what the triggers are built from;
 * - functions/_core/domain imports no adapter (functions/_core/adapters) and no SDK (`@aws-sdk/*`,
 *   `@smithy/*`, `@aws-crypto/*`, `@kubernetes/*`): planners and rules stay pure, testable without I/O.
 *
 * Every import form with a literal specifier counts (`import`, `import type`, `export ... from`, `import()`,
 * `typeof import()`), whatever its spelling: relative paths are resolved against the importing file and the
 * package.json aliases (`#core/*`, `#fakes/*`) against the repository, so `../../sweeper/x.ts` from a stage
 * is caught like `../sweeper/x.ts`. Plain JavaScript: ESLint loads it without a TypeScript loader.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The trigger folders under functions/. */
export const TRIGGERS = ['spot-interruption', 'sweeper', 'pod-events', 'deploy-webhook', 'traffic-shift', 'pod-forwarder'];

/** Packages the domain must not import: the AWS SDK and the Kubernetes client. */
const SDK = /^(@aws-sdk|@smithy|@aws-crypto|@kubernetes)\//;

/** package.json `imports`: alias prefix -> repository folder. */
const ALIASES = [
  ['#core/', 'functions/_core/'],
  ['#fakes/', 'test/fakes/'],
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where an import specifier lands: a repository path (posix, from the root) or a package name.
 * @param {string} source
 * @param {string} file absolute path of the importing file
 * @returns {{ path: string } | { pkg: string }}
 */
function landing(source, file) {
  for (const [alias, folder] of ALIASES) if (source.startsWith(alias)) return { path: folder + source.slice(alias.length) };
  if (source.startsWith('.')) return { path: relative(ROOT, resolve(dirname(file), source)).split(sep).join('/') };
  return { pkg: source };
}

/**
 * The part of the code a repository path belongs to.
 * @param {string} path
 * @returns {{ kind: 'trigger', name: string } | { kind: 'cli' | 'domain' | 'adapters' | 'core' } | undefined}
 */
function areaOf(path) {
  const m = /^functions\/([^/]+)\//.exec(path);
  if (!m) return undefined;
  const top = /** @type {string} */ (m[1]);
  if (TRIGGERS.includes(top)) return { kind: 'trigger', name: top };
  if (top === 'cli') return { kind: 'cli' };
  if (top !== '_core') return undefined;
  if (path.startsWith('functions/_core/domain/')) return { kind: 'domain' };
  if (path.startsWith('functions/_core/adapters/')) return { kind: 'adapters' };
  return { kind: 'core' };
}

/**
 * Why importing `source` from `file` crosses a boundary, or undefined when it does not.
 * @param {string} file
 * @param {string} source
 * @returns {string | undefined}
 */
export function boundaryViolation(file, source) {
  const from = areaOf(relative(ROOT, file).split(sep).join('/'));
  if (!from) return undefined;
  const to = landing(source, file);
  if ('pkg' in to) {
    return from.kind === 'domain' && SDK.test(to.pkg) ? `functions/_core/domain imports no SDK (${to.pkg}): planners and rules stay pure; reach AWS through a port` : undefined;
  }
  const area = areaOf(to.path);
  if (!area) return undefined;
  if (from.kind === 'trigger' && ((area.kind === 'trigger' && area.name !== from.name) || area.kind === 'cli')) {
    const what = area.kind === 'trigger' ? `trigger ${area.name}` : 'the CLI';
    return `trigger ${from.name} imports ${what} (${source}): no trigger imports another; share it through functions/_core`;
  }
  if (from.kind === 'cli' && /(^|\/)handler\.ts$/.test(to.path)) {
    return `the CLI imports a handler module (${source}), which builds clients, logger and metrics at import: take it from the trigger's other modules or functions/_core`;
  }
  if ((from.kind === 'core' || from.kind === 'domain' || from.kind === 'adapters') && (area.kind === 'trigger' || area.kind === 'cli')) {
    return `functions/_core imports ${area.kind === 'cli' ? 'the CLI' : `trigger ${'name' in area ? area.name : ''}`} (${source}): the core knows no trigger`;
  }
  if (from.kind === 'domain' && area.kind === 'adapters') {
    return `functions/_core/domain imports an adapter (${source}): planners and rules stay pure; take a port (functions/_core/ports) instead`;
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'No trigger imports another trigger, the CLI no handler module, the core no trigger, the domain no adapter or SDK.' },
    schema: [],
    messages: { crossed: '{{why}}' },
  },
  create(context) {
    const file = context.filename;
    /** @param {any} node the string literal of an import specifier */
    const check = (node) => {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const why = boundaryViolation(file, node.value);
      if (why) context.report({ node, messageId: 'crossed', data: { why } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      /** `typeof import('...')` in a type. @param {any} node */
      TSImportType: (node) => check(node.argument?.literal ?? node.argument),
    };
  },
};

/** The plugin eslint.config.js registers as `quiesce`. */
export default { meta: { name: 'quiesce-boundaries' }, rules: { boundaries: rule } };
