import { describe, expect, it } from 'vitest';
import { eksToken, EKS_TOKEN_PREFIX } from '#core/adapters/kube/eks-token.ts';
import type * as EksTokenModule from '#core/adapters/kube/eks-token.ts';
import { checkEksToken, TokenRejected } from '#fakes/kube/index.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FQoG/+token==' };
const signingDate = new Date('2026-11-21T12:00:00Z');

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  it('is k8s-aws-v1. + unpadded base64url of a presigned regional STS GetCallerIdentity URL', async () => {
    const token = await eksToken('prod', { region: 'eu-west-1', credentials, signingDate });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    const body = token.slice('k8s-aws-v1.'.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/); // base64url alphabet, no '=' padding
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Date')).toBe('20261121T120000Z');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261121/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(q.get('X-Amz-Security-Token')).toBe('FQoG/+token==');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // The cluster name is signed, never in the URL.
    expect(url.href).not.toContain('prod');
  });

  it('signs the cluster name: the signature checks out for that cluster only', async () => {
    const token = await eksToken('prod', { region: 'us-east-1', credentials, signingDate });
    await expect(checkEksToken(token, { verify: { clusterName: 'prod', credentials } })).resolves.toMatchObject({ region: 'us-east-1' });
    await expect(checkEksToken(token, { verify: { clusterName: 'staging', credentials } })).rejects.toBeInstanceOf(TokenRejected);
  });

  it('is different on every run (new date) and respects expiresInSeconds', async () => {
    const a = await eksToken('prod', { region: 'eu-west-1', credentials, signingDate });
    const b = await eksToken('prod', { region: 'eu-west-1', credentials, signingDate: new Date(signingDate.getTime() + 1000) });
    expect(a).not.toBe(b);
    const long = await eksToken('prod', { region: 'eu-west-1', credentials, expiresInSeconds: 900 });
    expect(decode(long).searchParams.get('X-Amz-Expires')).toBe('900');
  });

  it('takes credentials from a provider function', async () => {
    const token = await eksToken('prod', { region: 'ap-southeast-2', credentials: async () => credentials, signingDate });
    expect(decode(token).searchParams.get('X-Amz-Credential')).toContain('/ap-southeast-2/sts/');
  });

  it('uses the default chain when no credentials are given (env credentials, as on Lambda)', async () => {
    const saved = { ...process.env };
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIDFROMENV';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'secret';
    delete process.env['AWS_SESSION_TOKEN'];
    delete process.env['AWS_PROFILE'];
    try {
      // The module keeps one default provider per process (as one per Lambda environment should): an earlier
      // test file in this worker may have made it with other env credentials. A fresh instance of the
      // module has none yet, like a new Lambda environment.
      const fresh = `../../../functions/_core/adapters/kube/eks-token.ts?fresh=${Date.now()}`;
      const { eksToken: freshEksToken } = (await import(fresh)) as typeof EksTokenModule;
      const token = await freshEksToken('prod', { region: 'eu-west-1' });
      expect(decode(token).searchParams.get('X-Amz-Credential')).toMatch(/^AKIDFROMENV\//);
    } finally {
      process.env = saved;
    }
  });
});
