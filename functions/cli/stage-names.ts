/**
 * The names of a stage, as infra/names.yml makes them: the one place every name of a quiesce resource that
 * something outside the stack refers to comes from. osls reads that file into serverless.yml (`custom.names`)
 * and resolves its variables; this evaluates the same file the same way for the scripts, the docs' commands
 * and the tests, without osls. Only `${self:service}` and `${sls:stage}` are allowed in it, so the two
 * readers cannot disagree (test/package/deployment.test.ts holds the packaged template to these names).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The keys of infra/names.yml. */
export const NAME_KEYS = [
  'stack',
  'eventBus',
  'stateTable',
  'scheduleGroup',
  'webhookTokenParameter',
  'trafficPlansPath',
  'nodeSignalQueue',
  'nodeSignalDeadLetterQueue',
  'eventsDeadLetterQueue',
  'asyncFailureQueue',
  'alarmTopic',
  'pagingTopic',
  'dashboard',
  'auditArchive',
  'auditLogGroup',
  'forwarderImageRepository',
  'argocdService',
  'argocdTrigger',
  'argocdTemplate',
  'argocdTokenKey',
  'forwarderNamespace',
  'forwarderServiceAccount',
  'readerGroup',
] as const;
export type NameKey = (typeof NAME_KEYS)[number];

/** Every name of one stage. */
export type StageNames = Readonly<Record<NameKey, string>>;

/** The service name serverless.yml declares (`service: quiesce`). */
export function serviceName(file = join(root, 'serverless.yml')): string {
  const m = /^service:\s*([A-Za-z0-9-]+)\s*$/m.exec(readFileSync(file, 'utf8'));
  if (!m?.[1]) throw new Error(`${file}: no "service:" line`);
  return m[1];
}

/**
 * infra/names.yml for `stage`: each value with `${self:service}` and `${sls:stage}` replaced.
 *
 * @throws when the file uses any other variable, or lacks a key.
 * @example
 * stageNames('prod').stateTable; // 'quiesce-prod-state'
 */
export function stageNames(stage: string, file = join(root, 'infra', 'names.yml'), service = serviceName()): StageNames {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') throw new Error(`${file}: ${key} is not a string`);
    const v = value.replaceAll('${self:service}', service).replaceAll('${sls:stage}', stage);
    if (v.includes('${')) throw new Error(`${file}: ${key} uses a variable other than \${self:service} and \${sls:stage}: ${value}`);
    out[key] = v;
  }
  for (const k of NAME_KEYS) if (out[k] === undefined) throw new Error(`${file}: no ${k}`);
  return out as StageNames;
}
