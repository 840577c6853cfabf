/**
 * The part of Go's text/template that the ArgoCD notifications templates in infra/argocd use, with Go's
 * semantics, so a test can render them exactly as the notifications engine would:
 *
 * - text outside `{{ }}` is copied as is; `{{-` / `-}}` trim the adjacent white space;
 * - an action is a field chain from dot (`.app.status.sync.status`), optionally piped into a function
 *   (`| toJson`);
 * - a field chain on maps (what the engine passes: the Application as map[string]interface{}) yields
 *   Go's zero value, nil, for a missing key; following a field of that nil is an execution error
 *   ("nil pointer evaluating interface {}.x"), as in Go;
 * - a nil printed without a function prints `<no value>`, as Go's default missingkey option does.
 *
 * Functions: `toJson` as Sprig defines it (the engine registers Sprig's TxtFuncMap): json.Marshal of the
 * value (nil -> null). Anything else (range, if, other functions) is refused with an error, so a template
 * that grows beyond this subset fails the test instead of being rendered wrongly.
 */

type Value = unknown;

const FUNCS: Readonly<Record<string, (v: Value) => string>> = {
  toJson: (v) => JSON.stringify(v === undefined ? null : v),
};

function field(data: Value, chain: string, action: string): Value {
  let cur: Value = data;
  for (const name of chain.split('.').filter(Boolean)) {
    if (cur === null || cur === undefined) throw new Error(`template: executing "${action}": nil pointer evaluating interface {}.${name}`);
    if (typeof cur !== 'object' || Array.isArray(cur)) throw new Error(`template: executing "${action}": can't evaluate field ${name} in type ${Array.isArray(cur) ? '[]interface {}' : typeof cur}`);
    cur = (cur as Record<string, Value>)[name];
  }
  return cur === undefined ? null : cur;
}

function print(v: Value): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(print).join(' ')}]` : `map[${Object.keys(v as object).sort().map((k) => `${k}:${print((v as Record<string, Value>)[k])}`).join(' ')}]`;
  return String(v);
}

/** Renders `template` with `data` as dot. Throws on what Go would refuse, and on constructs outside the subset. */
export function renderGoTemplate(template: string, data: Value): string {
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) return out + rest;
    let text = rest.slice(0, open);
    const trimLeft = rest.startsWith('{{- ', open) || rest.startsWith('{{-\n', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error('template: unclosed action');
    const trimRight = rest[close - 1] === '-' && /\s/.test(rest[close - 2] ?? '');
    const inner = rest.slice(open + 2 + (trimLeft ? 1 : 0), close - (trimRight ? 1 : 0)).trim();
    out += text;
    const m = /^(\.[A-Za-z0-9_.]*)\s*(?:\|\s*([A-Za-z]+))?$/.exec(inner);
    if (!m) throw new Error(`template: "${inner}" is outside the subset this renderer implements`);
    const [, chain = '', fn] = m;
    const v = field(data, chain, inner);
    if (fn === undefined) out += print(v);
    else {
      const f = FUNCS[fn];
      if (!f) throw new Error(`template: function "${fn}" not defined`);
      out += f(v);
    }
    rest = rest.slice(close + 2);
    if (trimRight) rest = rest.replace(/^\s+/, '');
  }
}
