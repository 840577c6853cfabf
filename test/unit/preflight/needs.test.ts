/**
 * The preflight's table of what each function needs (functions/_core/preflight/target.ts) against what
 * ships: every list and get it checks is one the cluster-access ClusterRole grants (else the doctor would
 * fail a correct stage), every write it simulates is one the function's role has a statement for, and the
 * role names it derives are the stack's. A function that starts reading or writing something new changes
 * this table, or the doctor stops proving it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PREFLIGHT_FUNCTIONS } from '#core/preflight/checklist.ts';
import { functionRoleName, NEEDS } from '#core/preflight/target.ts';
import { PUBLISHES } from '#core/preflight/policies.ts';
import { PUBLISHES as DEPLOYED_PUBLISHES } from '../../package/publishers.ts';

const root = new URL('../../../', import.meta.url).pathname;
const role = parse(readFileSync(`${root}infra/k8s/cluster-access/clusterrole.yaml`, 'utf8')) as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
/** infra/serverless/iam.yml's roles: name pattern and the actions each statement allows (the file as text is enough). */
const iam = readFileSync(`${root}infra/serverless/iam.yml`, 'utf8');
const LOGICAL: Record<string, string> = { 'spot-interruption': 'SpotInterruptionRole', sweeper: 'SweeperRole', 'pod-events': 'PodEventsRole', 'traffic-shift': 'TrafficShiftRole' };

/** The text of one role's block in iam.yml. */
function roleBlock(logicalId: string): string {
  const start = iam.indexOf(`\n  ${logicalId}:\n`);
  const next = iam.slice(start + 1).search(/\n {2}[A-Z][A-Za-z]+:\n/);
  return iam.slice(start, next < 0 ? undefined : start + 1 + next);
}

describe('what the preflight checks is what ships', () => {
  it('every list and get it checks, the ClusterRole grants', () => {
    for (const fn of PREFLIGHT_FUNCTIONS) {
      for (const need of NEEDS[fn].kube) {
        const granted = role.rules.some((r) => r.apiGroups.includes(need.group) && r.resources.includes(need.resource) && r.verbs.includes(need.verb));
        expect(granted, `${fn}: ${need.verb} ${need.resource}.${need.group}`).toBe(true);
      }
    }
    expect(parseAllDocuments(readFileSync(`${root}infra/k8s/cluster-access/clusterrolebinding.yaml`, 'utf8'))[0]?.toJS()).toMatchObject({ subjects: [{ kind: 'Group', name: 'quiesce:readers' }] });
  });

  it('every write it simulates, the function\'s role has a statement for; the role names are the stack\'s', () => {
    for (const fn of PREFLIGHT_FUNCTIONS) {
      const block = roleBlock(LOGICAL[fn]!);
      expect(block, fn).toContain(`RoleName: !Sub 'quiesce-\${sls:stage}-${fn}-\${AWS::Region}'`);
      expect(functionRoleName('prod', fn, 'eu-west-1')).toBe(`quiesce-prod-${fn}-eu-west-1`);
      for (const write of NEEDS[fn].writes) expect(block, `${fn}: ${write}`).toContain(write);
    }
  });

  it('the detail-types it expects each function to publish are the ones the stack lets it publish', () => {
    for (const fn of PREFLIGHT_FUNCTIONS) {
      const deployed = (DEPLOYED_PUBLISHES[LOGICAL[fn]!] ?? []).map(([, detailType]) => detailType).sort();
      expect([...PUBLISHES[fn]].sort(), fn).toEqual(deployed);
    }
  });
});
