/**
 * The one decision between the live and the recording write port (ports/writes.ts). DRY_RUN, `quiesce plan`
 * and the CLI's --dry-run are this choice and nothing else: no stage, executor or workflow reads them.
 * A module of its own so that the functions that build their few write adapters themselves (the webhook,
 * the traffic shift) take the decision without the core wiring.
 */
import type { WriteMode } from './ports/writes.ts';

/**
 * The write port's mode: the caller's choice (the CLI: `plan` and `--dry-run` record, `apply` sends), else
 * DRY_RUN. The only reader of `dryRun` outside configuration parsing.
 */
export function writeModeFor(config: { readonly dryRun: boolean }, chosen?: WriteMode): WriteMode {
  return chosen ?? (config.dryRun ? 'recording' : 'live');
}
