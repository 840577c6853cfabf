/**
 * A stage's settings, for osls: serverless.yml reads this file (`${file(infra/stage-settings.cjs):...}`), and
 * it reads infra/stages/<stage>.yml, checks every value against infra/stage-settings.yml and fills in the
 * defaults. Why a file per stage: osls remembers no `--param` between deploys, so settings given on the
 * command line are dropped by the next deploy that forgets them; a committed file is reviewed like any
 * change and `npx osls deploy --stage <stage>` is then the whole deploy. For the same reason `--param` is
 * refused here, and a `--region` that disagrees with the file too.
 *
 * What it gives serverless.yml:
 *   params      `${param:<key>}` for every setting: `{ Ref: <Parameter> }` for the settings the stack takes
 *               as CloudFormation parameters, the value itself for the others (infra/stage-settings.yml);
 *   parameters  those CloudFormation parameters, each with the stage's value as its Default;
 *   settings    every value as the stage file gives it (for osls itself: the Region, stack tags).
 *
 * CommonJS with no dependency but node's own: osls loads it with require() from the service directory, and parses the
 * YAML files for it (resolveVariable). functions/cli/stage-settings.ts runs the same checks for scripts and tests.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Stage names: what every name in infra/names.yml can hold (IAM role names: 64 characters in all). */
const STAGE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

/** A setting's value rejected, or the stage file missing: the message names the file and the key. */
class StageSettingsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StageSettingsError';
    // osls prints `error.stack`: the message alone says everything.
    this.stack = `${this.name}: ${message}`;
  }
}

const describeType = (spec) => {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `a whole number in ${spec.min}..${spec.max}`;
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'list':
      return 'a list (YAML list or comma-separated string)';
    default:
      return spec.pattern ? `a string matching ${spec.pattern}` : 'a string';
  }
};

/** One value checked and normalised against its spec; throws naming `file` and `key`. */
function checkValue(file, key, spec, value) {
  const bad = (why) => new StageSettingsError(`${file}: ${key}: ${why} (expected ${describeType(spec)}; see infra/stage-settings.yml)`);
  switch (spec.type) {
    case 'boolean':
      if (value === true || value === false) return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw bad(`got ${JSON.stringify(value)}`);
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < spec.min || n > spec.max) throw bad(`got ${JSON.stringify(value)}`);
      return n;
    }
    case 'enum': {
      const found = spec.values.find((v) => String(v) === String(value));
      if (found === undefined) throw bad(`got ${JSON.stringify(value)}`);
      return found;
    }
    case 'list': {
      const items = Array.isArray(value) ? value : value === null || value === undefined ? [] : String(value).split(',');
      const out = items.map((v) => String(v).trim()).filter((v) => v !== '');
      if (out.some((v) => v.includes(','))) throw bad('an item contains a comma');
      return out.join(',');
    }
    default: {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad(`got ${JSON.stringify(value)}`);
      const s = String(value);
      if (spec.pattern && !new RegExp(spec.pattern).test(s)) throw bad(`got ${JSON.stringify(s)}`);
      return s;
    }
  }
}

/** What a CloudFormation parameter of this spec looks like (the template checks the value again). */
function cfnParameter(spec, value) {
  const p = {};
  switch (spec.type) {
    case 'boolean':
      Object.assign(p, { Type: 'String', AllowedValues: ['true', 'false'], Default: String(value) });
      break;
    case 'integer':
      Object.assign(p, { Type: 'Number', MinValue: spec.min, MaxValue: spec.max, Default: String(value) });
      break;
    case 'enum':
      Object.assign(p, { Type: spec.values.every((v) => typeof v === 'number') ? 'Number' : 'String', AllowedValues: spec.values.map(String), Default: String(value) });
      break;
    default:
      Object.assign(p, { Type: 'String', Default: String(value) });
      if (spec.pattern) p.AllowedPattern = spec.pattern;
  }
  p.Description = spec.description.length > 4000 ? `${spec.description.slice(0, 3997)}...` : spec.description;
  return p;
}

/**
 * The settings of `stage` from the parsed schema and stage file (`content`: undefined or null when the file
 * does not exist). Pure: functions/cli/stage-settings.ts and the tests call it with what they parsed themselves.
 *
 * @returns {{ stage: string, file: string, settings: Record<string, unknown>, params: { default: Record<string, unknown> }, parameters: Record<string, Record<string, unknown>> }}
 */
function stageSettings({ stage, schema, content, file = `infra/stages/${stage}.yml`, cliParams = [], cliRegion }) {
  if (typeof stage !== 'string' || !STAGE_NAME.test(stage)) {
    throw new StageSettingsError(`stage "${stage}": a stage name is 1 to 20 characters, a-z, 0-9 and inner hyphens (it is part of every name the stage creates: infra/names.yml)`);
  }
  if (cliParams.length > 0) {
    throw new StageSettingsError(`--param ${cliParams[0]}: not read. Every setting of stage ${stage} lives in ${file}: edit it there, so the next deploy keeps it`);
  }
  if (content === undefined || content === null) {
    throw new StageSettingsError(`${file} does not exist: copy infra/stages/example.yml to ${file}, set clusterName and region, and deploy with npx osls deploy --stage ${stage}`);
  }
  if (typeof content !== 'object' || Array.isArray(content)) throw new StageSettingsError(`${file}: expected a map of settings (key: value)`);
  for (const key of Object.keys(content)) {
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      throw new StageSettingsError(`${file}: ${key}: no such setting (the settings are ${Object.keys(schema).join(', ')}: infra/stage-settings.yml)`);
    }
  }
  const settings = {};
  const params = {};
  const parameters = {};
  for (const [key, spec] of Object.entries(schema)) {
    const given = content[key];
    const empty = given === undefined || given === null || given === '';
    if (empty && spec.required) throw new StageSettingsError(`${file}: ${key} is required: ${spec.description}`);
    const value = checkValue(file, key, spec, empty ? spec.default : given);
    settings[key] = value;
    if (spec.parameter) {
      params[key] = { Ref: spec.parameter };
      parameters[spec.parameter] = cfnParameter(spec, value);
    } else {
      params[key] = typeof value === 'boolean' ? String(value) : value;
    }
  }
  if (cliRegion !== undefined && cliRegion !== null && cliRegion !== settings.region) {
    throw new StageSettingsError(`--region ${cliRegion}: ${file} says region ${settings.region}; the stage's Region is a setting: drop --region, or edit ${file}`);
  }
  return { stage, file, settings, params: { default: params }, parameters };
}

/**
 * The version a package of this checkout is: QUIESCE_VERSION when the release script sets it; else
 * package.json's version when the commit is the release tag v<version>; else `<version>-dev.g<commit>`
 * (`.dirty` with uncommitted changes). A release tag is made once, so a released version names one commit;
 * anything else names its own commit, so a build of a newer commit never claims a released version (nor
 * its image tag, which an immutable repository would refuse: the drift the releases exist to end).
 * Without git (a copy of the service), package.json's version.
 */
function buildVersion(dir = join(__dirname, '..'), env = process.env) {
  if (env.QUIESCE_VERSION) return env.QUIESCE_VERSION;
  const pkgFile = join(dir, 'package.json');
  const version = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')).version : '0.0.0';
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  if (!existsSync(join(dir, '.git'))) return version;
  const commit = git('rev-parse', '--short=12', 'HEAD');
  if (!commit) return version;
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? '.dirty' : '';
  const tagged = (git('tag', '--points-at', 'HEAD') ?? '').split('\n').includes(`v${version}`);
  return tagged && !dirty ? version : `${version}-dev.g${commit}${dirty}`;
}

const memo = new Map();

/** osls entry point: `${file(infra/stage-settings.cjs):params}` (or `:parameters`, `:settings`, `:version`). */
async function resolve({ options, resolveVariable }) {
  const stage = options.stage ?? 'dev';
  const key = JSON.stringify([stage, options.param ?? [], options.region ?? null]);
  if (!memo.has(key)) {
    memo.set(
      key,
      (async () => {
        const schema = await resolveVariable('file(infra/stage-settings.yml)');
        // A stage name that is no file name is refused before it is read.
        if (typeof stage !== 'string' || !STAGE_NAME.test(stage)) return stageSettings({ stage, schema, content: {} });
        // osls's file source fails on a missing file without naming it: look first.
        const content = existsSync(join(__dirname, 'stages', `${stage}.yml`)) ? await resolveVariable(`file(infra/stages/${stage}.yml)`) : undefined;
        return { ...stageSettings({ stage, schema, content, cliParams: [].concat(options.param ?? []), cliRegion: options.region }), version: buildVersion() };
      })(),
    );
  }
  return memo.get(key);
}

module.exports = resolve;
module.exports.stageSettings = stageSettings;
module.exports.StageSettingsError = StageSettingsError;
module.exports.STAGE_NAME = STAGE_NAME;
module.exports.buildVersion = buildVersion;
