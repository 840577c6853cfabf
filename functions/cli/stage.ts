/**
 * A stage as the stack makes it, for the commands that look at a deployed stage (`doctor`, `audit`): its
 * settings file (infra/stages/<stage>.yml, checked as packaging checks it), the names infra/names.yml gives
 * its resources, and the functions' configuration as serverless.yml sets their environment. One place, so a
 * command sees the stage exactly as the functions do.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkStageSettings, readStageSettings } from './stage-settings.ts';
import { stageNames, type StageNames } from './stage-names.ts';
import { loadConfig, type Env, type QuiesceConfig } from '#core/config.ts';
import { UsageError } from './io.ts';

/** The tag key the stack's roles and the functions take a target group's cluster from (serverless.yml). */
const TARGET_GROUP_TAG_KEY = 'elbv2.k8s.aws/cluster';

/** A stage: its settings, its resources' names, its functions' configuration. */
export interface Stage {
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly names: StageNames;
  readonly region: string;
  readonly config: QuiesceConfig;
}

const joined = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v ?? ''));

/** The list a list setting holds (a YAML list or a comma-separated string). */
export const listSetting = (v: unknown): string[] => joined(v).split(',').map((x) => x.trim()).filter((x) => x !== '');

/**
 * Loads a stage: `infra/stages/<stage>.yml` of this checkout, or `settingsFile` (a stage file kept
 * elsewhere); the region from `--region` wins when given (and must match the file's).
 */
export function loadStage(stage: string, settingsFile?: string, region?: string): Stage {
  let settings: Readonly<Record<string, unknown>>;
  try {
    settings = settingsFile ? checkStageSettings(stage, (parse(readFileSync(settingsFile, 'utf8')) ?? {}) as Record<string, unknown>).settings : readStageSettings(stage).settings;
  } catch (err) {
    throw new UsageError(`stage ${stage}: ${(err as Error).message}`);
  }
  const names = stageNames(stage);
  const fileRegion = String(settings['region'] ?? '');
  if (region && fileRegion && region !== fileRegion) throw new UsageError(`--region ${region} is not the stage's region (${fileRegion})`);
  const env: Env = {
    CLUSTER_NAME: String(settings['clusterName'] ?? ''),
    CLOUDMAP_NAMESPACES: joined(settings['cloudMapNamespaces']),
    CLOUDMAP_OWNER_ATTRIBUTES: String(settings['cloudMapOwnerAttributes'] ?? ''),
    TARGET_GROUP_TAG_SELECTOR: `${TARGET_GROUP_TAG_KEY}=${String(settings['clusterName'] ?? '')}`,
    MIN_HEALTHY_TARGETS: String(settings['minHealthyTargets'] ?? ''),
    DRY_RUN: String(settings['dryRun'] ?? ''),
    AUDIT_EVENT_BUS: names.eventBus,
    STATE_TABLE: names.stateTable,
    ELB_BUDGET_SHARE: String(settings['elbBudgetShare'] ?? ''),
    POD_EVENT_SILENCE_HOURS: String(settings['podEventSilenceHours'] ?? ''),
    SWEEP_OVERDUE_FACTOR: String(settings['sweepOverdueFactor'] ?? ''),
    SCOPE_MAX_AGE_SECONDS: String(settings['scopeMaxAgeSeconds'] ?? ''),
    INDEX_VOUCH_SECONDS: String(settings['indexVouchSeconds'] ?? ''),
    SHARED_ELB_BUDGET: String(settings['sharedElbBudget'] ?? ''),
  };
  return { name: stage, settings, names, region: region ?? fileRegion, config: loadConfig(env) };
}
