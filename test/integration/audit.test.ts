/**
 * The audit trail end to end: the stack's archive and audit log rule (infra/serverless/audit.yml, read from
 * the packaged template) installed in the fake EventBridge, the real functions publishing their plans on the
 * stage's bus (a spot warning in dry run, a sweep, a rejected input), and `quiesce audit --since 24h` reading
 * the audit log group the rule delivered to: what would have been deregistered per trigger and per group,
 * and what a guard held back. The archive kept the same events, for a replay.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditSummary } from '#core/audit-summary.ts';
import { main, type CliIo } from '../../functions/cli/main.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { FakeLogs } from '../fakes/aws/logs.ts';
import { deployedStack, type DeployedStack } from '../package/deployed.ts';
import { spotHarness } from './harness.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'quiesce-audit-'));
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(root, 'events', `${name}.json`), 'utf8')) as Record<string, unknown>;

let deployed: DeployedStack;
beforeAll(async () => {
  deployed = await deployedStack(fakeAws);
}, 180_000);

/** Installs the stack's audit trail (its bus, log group, rule and archive, as rendered) in the reset fake. */
function installAuditTrail(): { group: string; archive: string } {
  const props = (id: string): Record<string, unknown> => deployed.stack.resources[id]!.Properties;
  const group = String(props('AuditLogGroup')['LogGroupName']);
  const archive = String(props('AuditArchive')['ArchiveName']);
  fakeAws.events.handle('CreateEventBus', { Name: deployed.busName });
  fakeAws.logs.seedLogGroup(group);
  const rule = props('AuditLogRule');
  fakeAws.events.handle('PutRule', { Name: rule['Name'], EventBusName: deployed.busName, EventPattern: JSON.stringify(rule['EventPattern']) });
  fakeAws.events.handle('PutTargets', { Rule: rule['Name'], EventBusName: deployed.busName, Targets: [{ Id: 'audit-log', Arn: FakeLogs.arnOf(group) }] });
  fakeAws.events.handle('CreateArchive', { ArchiveName: archive, EventSourceArn: deployed.busArn, EventPattern: JSON.stringify(props('AuditArchive')['EventPattern']), RetentionDays: 90 });
  return { group, archive };
}

async function audit(args: string[]): Promise<{ code: number; summary: AuditSummary & { logGroup: string }; text: string }> {
  const settings = join(tmp, 'prod.yml');
  writeFileSync(settings, 'clusterName: prod\nregion: us-east-1\ndryRun: true\n');
  let out = '';
  let text = '';
  const io: CliIo = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {}, interactive: false, confirm: async () => false, now: () => new Date(fakeAws.clock.now()) };
  const code = await main(['audit', '--stage', 'prod', '--settings', settings, '--json', ...args], io);
  await main(['audit', '--stage', 'prod', '--settings', settings, ...args], { ...io, stdout: { write: (t: string) => (text += t) } });
  return { code, summary: JSON.parse(out) as AuditSummary & { logGroup: string }, text };
}

describe('quiesce audit', () => {
  it('summarises the plans of the archived audit trail: what would have been deregistered, per trigger and per group, and what a guard held back', async () => {
    const { group, archive } = installAuditTrail();
    const h = spotHarness({ DRY_RUN: 'true', AUDIT_EVENT_BUS: deployed.busName });
    await h.invoke(sample('spot-interruption-warning'));
    await h.invoke({ ...sample('spot-interruption-warning'), detail: { 'instance-id': 'not-an-instance' } }).catch(() => undefined);
    fakeAws.clock.advance(3_600_000);

    const delivered = fakeAws.logs.events(group);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(fakeAws.eventRouting.archived(archive)).toHaveLength(delivered.length);
    expect(fakeAws.eventRouting.failedDeliveries).toEqual([]);

    const { code, summary, text } = await audit(['--since', '24h']);
    expect(code).toBe(0);
    expect(summary.logGroup).toBe('/aws/events/quiesce-prod-audit');
    expect(summary.plans).toEqual({ total: 1, dryRun: 1, live: 0 });
    expect(summary.byTrigger['spot-interruption']).toEqual({ plans: 1, applied: 0, wouldApply: 7, heldBack: 2, failed: 0 });
    // The spot node's registrations, group by group, as the live run would deregister them.
    expect(summary.byGroup['target k8s-shop-web']).toEqual({ applied: 0, wouldApply: 2, heldBack: 0, failed: 0 });
    expect(summary.byGroup['target k8s-shop-api']).toEqual({ applied: 0, wouldApply: 2, heldBack: 0, failed: 0 });
    expect(summary.byGroup['target k8s-shop-nodeport']).toEqual({ applied: 0, wouldApply: 1, heldBack: 0, failed: 0 });
    // admin's last healthy target is on the node: the min-healthy guard held it back.
    expect(summary.byGroup['target k8s-shop-admin']).toEqual({ applied: 0, wouldApply: 0, heldBack: 1, failed: 0 });
    expect(summary.byGroup['cloudmap payments']).toEqual({ applied: 0, wouldApply: 1, heldBack: 0, failed: 0 });
    // ledger's record of the old cluster (ver=v1-29) on a reused IP: not this cluster's, held back by ownership.
    expect(summary.byGroup['cloudmap ledger']).toEqual({ applied: 0, wouldApply: 1, heldBack: 1, failed: 0 });
    expect(summary.guards['min-healthy']).toEqual({ count: 1, examples: [expect.stringMatching(/^target group k8s-shop-admin would keep fewer than 1 healthy/)] });
    expect(summary.guards['ownership']).toEqual({ count: 1, examples: ['instance lacks owner attribute(s) ver=v1-30: another cluster\'s record'] });
    expect(summary.rejected).toBe(1);
    expect(text).toMatch(/1 plan\(s\) \(1 dry run, 0 live\)/);
    expect(text).toMatch(/target k8s-shop-admin +0 +0 +1 +0/);
    expect(text).toMatch(/held back by a guard\n {2}min-healthy: 1\n {4}target group k8s-shop-admin would keep fewer than 1 healthy/);

    // The window is the window: an hour ago, nothing.
    const recent = await audit(['--since', '30m']);
    expect(recent.summary.plans.total).toBe(0);
  });

  it('refuses a window it cannot read', async () => {
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, interactive: false, confirm: async () => false };
    const settings = join(tmp, 'p.yml');
    writeFileSync(settings, 'clusterName: prod\nregion: us-east-1\n');
    expect(await main(['audit', '--stage', 'prod', '--settings', settings, '--since', 'yesterday'], io)).toBe(2);
    // No log group (the stack is not deployed): a failure, named.
    expect(await main(['audit', '--stage', 'prod', '--settings', settings], io)).toBe(1);
  });
});
