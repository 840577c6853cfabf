/**
 * The traffic plans as deployed: one SSM String parameter per ArgoCD app under TRAFFIC_PLANS_PATH
 * (functions/traffic-shift/plans.ts), read with GetParametersByPath through the real SDK against the fake
 * Parameter Store (pages of 10, the 4 KB Standard tier). Far more apps than the 4 KB Lambda environment held
 * (about six), a shift started from its app's parameter, and one app's broken plan kept to that app.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedTrafficTopology, trafficDeps } from '../fakes/traffic.ts';
import { dispatch } from '../../functions/traffic-shift/handler.ts';

const PATH = '/quiesce/test/traffic-plans';
const sample = JSON.parse(readFileSync(new URL('../../events/deployment-synced.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const synced = (app: string): Record<string, unknown> => ({ ...sample, detail: { ...(sample['detail'] as object), app, revision: '9f1c2ab' } });

describe('traffic plans from SSM Parameter Store', () => {
  it('reads 120 apps\' plans (30 KB, past any one parameter or the environment) and shifts the synced app by its own', async () => {
    const t = seedTrafficTopology(fakeAws);
    const plan = (i: number) => ({ ruleArn: t.ruleArn.replace(/[0-9a-f]{16}$/, (m) => (i === 0 ? m : i.toString(16).padStart(16, '0'))), from: t.tg.old, to: t.tg.new, steps: [10, 50, 100], pauseSeconds: 300, gate: { minHealthyTargets: 2 }, destination: 'green' });
    const apps = ['shop', ...Array.from({ length: 119 }, (_, i) => `app-${i + 1}`)];
    let bytes = 0;
    for (const [i, app] of apps.entries()) {
      const value = JSON.stringify(plan(i));
      bytes += value.length;
      fakeAws.ssm.putParameter(`${PATH}/${app}`, value, 'String');
    }
    expect(bytes).toBeGreaterThan(4096 * 7);
    const deps = trafficDeps(fakeAws, t, { TRAFFIC_PLANS: '', TRAFFIC_PLANS_PATH: PATH });
    expect(await dispatch(deps, synced('shop'))).toMatchObject({ status: 'step-applied', step: 1, percent: 10 });
    // One read of the path (12 pages of 10) served the sync; the cache serves the watchdog after it.
    expect(fakeAws.calls.count('ssm', 'GetParametersByPath')).toBe(12);
    const watch = await dispatch(deps, { source: 'quiesce', 'detail-type': 'Traffic Shift Watchdog', detail: {} });
    expect(watch).toMatchObject({ status: 'watchdog', checked: 120 });
    expect(fakeAws.calls.count('ssm', 'GetParametersByPath')).toBe(12);
  });

  it('keeps a broken plan to its own app: its syncs say why, every other app still shifts', async () => {
    const t = seedTrafficTopology(fakeAws);
    fakeAws.ssm.putParameter(`${PATH}/shop`, JSON.stringify({ ruleArn: t.ruleArn, from: t.tg.old, to: t.tg.new, steps: [10, 50, 100] }), 'String');
    fakeAws.ssm.putParameter(`${PATH}/cart`, JSON.stringify({ ruleArn: t.ruleArn, from: t.tg.old, to: t.tg.new, steps: [50, 10] }), 'String');
    fakeAws.ssm.putParameter(`${PATH}/admin`, '{"ruleArn": ', 'String');
    const deps = trafficDeps(fakeAws, t, { TRAFFIC_PLANS: '', TRAFFIC_PLANS_PATH: PATH });
    expect(await dispatch(deps, synced('cart'))).toEqual({ status: 'ignored', reason: expect.stringMatching(/^the traffic plan of app cart is not valid: .*\/quiesce\/test\/traffic-plans\/cart: apps\.cart\.steps: expected strictly increasing/) });
    expect(await dispatch(deps, synced('admin'))).toEqual({ status: 'ignored', reason: expect.stringMatching(/^the traffic plan of app admin is not valid: \/quiesce\/test\/traffic-plans\/admin: not JSON/) });
    expect(await dispatch(deps, synced('other'))).toEqual({ status: 'ignored', reason: 'no traffic plan for app other' });
    expect(await dispatch(deps, synced('shop'))).toMatchObject({ status: 'step-applied', step: 1 });
  });

  it('fails the invocation when the path cannot be read (an unreadable path is not "no plans")', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t, { TRAFFIC_PLANS: '', TRAFFIC_PLANS_PATH: PATH });
    fakeAws.faults.fail('GetParametersByPath', { service: 'ssm', times: 100, code: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParametersByPath', status: 400 });
    await expect(dispatch(deps, synced('shop'))).rejects.toThrow(/not authorized to perform: ssm:GetParametersByPath/);
  });
});
