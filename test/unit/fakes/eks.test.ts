import { describe, expect, it } from 'vitest';
import { FakeAwsError, FakeClock } from '../../fakes/aws/core.ts';
import { FakeEks } from '../../fakes/aws/eks.ts';
import { FakeSts, FAKE_ACCOUNT_ID } from '../../fakes/aws/sts.ts';

describe('FakeEks', () => {
  it('describes a seeded cluster', () => {
    const eks = new FakeEks(new FakeClock());
    eks.seedCluster({ name: 'prod', endpoint: 'https://127.0.0.1:6443', caData: 'Q0E=' });
    const out = eks.handle('DescribeCluster', { name: 'prod' }) as { cluster: Record<string, unknown> };
    expect(out.cluster).toMatchObject({
      name: 'prod',
      arn: `arn:aws:eks:us-east-1:${FAKE_ACCOUNT_ID}:cluster/prod`,
      endpoint: 'https://127.0.0.1:6443',
      certificateAuthority: { data: 'Q0E=' },
      status: 'ACTIVE',
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    });
    expect(eks.restRoutes).toEqual([{ method: 'GET', path: '/clusters/{name}', operation: 'DescribeCluster' }]);
  });

  it('an unknown cluster is ResourceNotFoundException (404)', () => {
    const eks = new FakeEks(new FakeClock());
    let err: unknown;
    try {
      eks.handle('DescribeCluster', { name: 'nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FakeAwsError);
    expect([(err as FakeAwsError).code, (err as FakeAwsError).status]).toEqual(['ResourceNotFoundException', 404]);
  });

  it('STS GetCallerIdentity returns the fixed identity', () => {
    const sts = new FakeSts(new FakeClock());
    expect(sts.handle('GetCallerIdentity', {})).toMatchObject({ Account: FAKE_ACCOUNT_ID });
  });
});
