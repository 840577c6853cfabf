/**
 * A stage's settings for scripts and tests, read and checked exactly as osls reads them: the checks are
 * infra/stage-settings.cjs's own (`stageSettings`), given the schema (infra/stage-settings.yml) and the stage
 * file parsed here. One implementation, so `npm run render`, the release and the tests cannot accept a file
 * that `osls deploy` refuses, or the other way round.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One setting as infra/stage-settings.yml declares it. */
export interface SettingSpec {
  readonly type: 'string' | 'boolean' | 'integer' | 'enum' | 'list';
  readonly description: string;
  readonly default?: unknown;
  readonly required?: boolean;
  readonly pattern?: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly (string | number)[];
  /** The CloudFormation parameter the stack takes the setting as; absent = baked in when osls packages. */
  readonly parameter?: string;
}

/** What infra/stage-settings.cjs makes of a stage file. */
export interface StageSettings {
  readonly stage: string;
  readonly file: string;
  /** Every setting, defaults filled in. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The CloudFormation parameters, each with the stage's value as Default. */
  readonly parameters: Readonly<Record<string, { Type: string; Default: string; Description: string }>>;
}

interface Resolver {
  stageSettings(input: { stage: string; schema: Record<string, SettingSpec>; content: unknown; file?: string }): StageSettings;
  readonly STAGE_NAME: RegExp;
}

const resolver = createRequire(import.meta.url)(join(root, 'infra', 'stage-settings.cjs')) as Resolver;

/** The settings schema (infra/stage-settings.yml). */
export function settingsSchema(file = join(root, 'infra', 'stage-settings.yml')): Readonly<Record<string, SettingSpec>> {
  return parse(readFileSync(file, 'utf8')) as Record<string, SettingSpec>;
}

/**
 * The settings of `stage` from infra/stages/<stage>.yml under `serviceDir` (default: the repository).
 *
 * @throws StageSettingsError naming the file and the key, as osls would.
 * @example
 * readStageSettings('prod').settings['clusterName'];
 */
export function readStageSettings(stage: string, serviceDir = root): StageSettings {
  const path = join(serviceDir, 'infra', 'stages', `${stage}.yml`);
  const content = resolver.STAGE_NAME.test(stage) && existsSync(path) ? (parse(readFileSync(path, 'utf8')) as unknown) : undefined;
  return resolver.stageSettings({ stage, schema: settingsSchema(join(serviceDir, 'infra', 'stage-settings.yml')), content: content ?? (resolver.STAGE_NAME.test(stage) ? undefined : {}) });
}

/** Checks settings given as an object (a test's or the release's stage) without a file. */
export function checkStageSettings(stage: string, content: Readonly<Record<string, unknown>>): StageSettings {
  return resolver.stageSettings({ stage, schema: settingsSchema(), content });
}
