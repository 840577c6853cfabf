/**
 * What AWS calls each Lambda function's code can make, read from the code itself: esbuild resolves the
 * modules a handler bundles (its metafile, the same module graph `npm run build` ships), and in each of
 * those modules every `new XxxCommand(` whose `XxxCommand` is imported from an `@aws-sdk/client-*`
 * package is one call. The IAM action is `<prefix>:<Xxx>`, the prefix being the client's SigV4 signing
 * name as the SDK itself declares it (for these services IAM uses the signing name as its prefix).
 *
 * Why from the code and not a list: roles drift from code in both directions (a new call the role lacks
 * fails only in production with AccessDenied; a removed call leaves a grant nobody needs). A list kept by
 * hand drifts the same way; the bundle graph cannot.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

/** One AWS call site: the IAM action and the module that sends it. */
export interface SdkCall {
  readonly action: string;
  readonly file: string;
}

const signingNames = new Map<string, string>();

/** The SigV4 signing name of an SDK v3 client package, from its own auth scheme provider. */
export function signingNameOf(clientPackage: string): string {
  const known = signingNames.get(clientPackage);
  if (known) return known;
  const source = readFileSync(join(root, 'node_modules', clientPackage, 'dist-es', 'auth', 'httpAuthSchemeProvider.js'), 'utf8');
  const name = /signingProperties:\s*\{\s*name:\s*"([a-z0-9-]+)"/.exec(source)?.[1];
  if (!name) throw new Error(`${clientPackage}: no SigV4 signing name in its httpAuthSchemeProvider`);
  signingNames.set(clientPackage, name);
  return name;
}

const SDK_IMPORT = /import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g;

/** The calls one module's source makes: `new XxxCommand(` of a value imported from an SDK client. */
export function callsInSource(source: string, file: string): SdkCall[] {
  const commands = new Map<string, string>();
  for (const [, names = '', pkg = ''] of source.matchAll(SDK_IMPORT)) {
    if (/^\s*import\s+type\b/.test(names)) continue;
    for (const spec of names.split(',')) {
      const s = spec.trim();
      if (!s || s.startsWith('type ')) continue;
      const [imported = '', local = imported] = s.split(/\s+as\s+/);
      if (imported.endsWith('Command')) commands.set(local.trim(), `${signingNameOf(pkg)}:${imported.trim().slice(0, -'Command'.length)}`);
    }
  }
  const out: SdkCall[] = [];
  for (const [, local = ''] of source.matchAll(/new\s+([A-Za-z0-9_$]+)\s*\(/g)) {
    const action = commands.get(local);
    if (action) out.push({ action, file });
  }
  return out;
}

/** The project modules a handler bundles (npm packages left out: the SDK itself sends nothing on its own). */
export async function modulesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    outfile: 'out.mjs',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
}

/** An adapter class's methods and the AWS actions each one sends (its private helpers included). */
interface AdapterClass {
  readonly name: string;
  readonly methods: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Reads the adapter classes of a module: each method's own `new XxxCommand(`, plus those of the `this.m(`
 * / `this.#m(` helpers it calls, transitively. A method is the text from its header (two-space indent,
 * as the project writes classes) to the next one.
 */
export function adapterClassesIn(source: string, file: string): AdapterClass[] {
  const classes: AdapterClass[] = [];
  for (const m of source.matchAll(/^export class (\w+)[^{]*\{$([\s\S]*?)^\}$/gm)) {
    const [, name = '', body = ''] = m;
    const own = new Map<string, Set<string>>();
    const refs = new Map<string, Set<string>>();
    const headers = [...body.matchAll(/^ {2}(?:(?:private|public|static|readonly|async|get)\s+)*(#?[A-Za-z_$][\w$]*)\s*[(<]/gm)];
    headers.forEach((h, i) => {
      const method = h[1] ?? '';
      const text = body.slice(h.index, headers[i + 1]?.index ?? body.length);
      own.set(method, new Set(callsInSource(source.slice(0, source.indexOf('export class')) + text, file).map((c) => c.action)));
      refs.set(method, new Set([...text.matchAll(/this\.(#?[A-Za-z_$][\w$]*)\s*\(/g)].map((r) => r[1] ?? '')));
    });
    const resolve = (method: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(method)) return new Set();
      seen.add(method);
      const out = new Set(own.get(method) ?? []);
      for (const r of refs.get(method) ?? []) for (const a of resolve(r, seen)) out.add(a);
      return out;
    };
    const methods = new Map<string, ReadonlySet<string>>();
    for (const method of own.keys()) if (!method.startsWith('#') && method !== 'constructor') methods.set(method, resolve(method));
    if ([...methods.values()].some((a) => a.size > 0)) classes.push({ name, methods });
  }
  return classes;
}

/** Method names too common to attribute by name alone (Map#get, promises, ...): these need a known receiver. */
const GENERIC = new Set(['get', 'set', 'has', 'delete', 'send', 'call', 'list', 'cancel', 'publish', 'close', 'start', 'stop']);

/**
 * Every AWS call the code reachable from `entry` can make, by IAM action, with the modules that make it.
 *
 * Module granularity alone would say every function calls everything: the shared wiring builds every
 * adapter. So the unit is the adapter method: a module reachable from the handler that calls
 * `<receiver>.<method>(` of an adapter method counts that method's actions. A method whose name is common
 * counts only on a receiver the code names an instance of that adapter (`store: new AwsDynamoStateStore(`,
 * `const bus = ... new AwsEventBus(`). `new XxxCommand(` outside the adapters counts directly.
 */
export async function sdkCallsOf(entry: string): Promise<Map<string, string[]>> {
  const modules = await modulesOf(entry);
  const sources = new Map(modules.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  const adapters = new Map<string, AdapterClass[]>();
  for (const [file, source] of sources) {
    const found = adapterClassesIn(source, file);
    if (found.length > 0) adapters.set(file, found);
  }
  const all = [...adapters.values()].flat();
  const receivers = new Map<string, Set<string>>(all.map((c) => [c.name, new Set<string>()]));
  for (const source of sources.values()) {
    for (const c of all) {
      for (const m of source.matchAll(new RegExp(`(\\w+)\\s*[:=][^;,]*?\\bnew\\s+${c.name}\\s*\\(`, 'g'))) receivers.get(c.name)?.add(m[1] ?? '');
    }
  }
  const owners = new Map<string, number>();
  for (const c of all) for (const m of c.methods.keys()) owners.set(m, (owners.get(m) ?? 0) + 1);

  const byAction = new Map<string, string[]>();
  const add = (action: string, file: string): void => {
    const files = byAction.get(action) ?? [];
    if (!files.includes(file)) files.push(file);
    byAction.set(action, files);
  };
  for (const [file, source] of sources) {
    if (adapters.has(file)) continue;
    for (const call of callsInSource(source, file)) add(call.action, file);
    for (const c of all) {
      for (const [method, actions] of c.methods) {
        const byName = !GENERIC.has(method) && owners.get(method) === 1;
        const pattern = byName ? `\\.${method}\\s*\\(` : `\\b(?:${[...(receivers.get(c.name) ?? [])].join('|') || '(?!)'})\\.${method}\\s*\\(`;
        if (new RegExp(pattern).test(source)) for (const a of actions) add(a, file);
      }
    }
  }
  return byAction;
}
