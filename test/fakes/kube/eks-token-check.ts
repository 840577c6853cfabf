/**
 * How the fake Kubernetes API decides whether a bearer token is an EKS token, the way aws-iam-authenticator
 * does on a real cluster: `k8s-aws-v1.` + unpadded base64url of a presigned STS GetCallerIdentity URL whose
 * signed headers include `x-k8s-aws-id`. Structural checks always run; with the signing credentials the
 * signature itself is recomputed, which also proves the token names the expected cluster (the cluster
 * name is only in the signature, never in the URL).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** The prefix every EKS bearer token starts with. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** What the fake checks beyond the token's shape. */
export interface TokenCheckOptions {
  /** The largest X-Amz-Expires accepted (aws-iam-authenticator: 15 minutes). Default 900. */
  maxExpiresSeconds?: number;
  /** Reject tokens signed more than 15 minutes before (or 5 minutes after) this time. Omit to skip. */
  now?: Date;
  /** Recompute the signature with these credentials and this cluster name. Omit to skip. */
  verify?: {
    clusterName: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
}

/** The parts of a decoded, well-formed token, for assertions. */
export interface DecodedEksToken {
  url: URL;
  region: string;
  signedHeaders: string[];
  expiresSeconds: number;
  signingDate: Date;
}

/** Thrown (and turned into a 401 by the fake) when a token is not an acceptable EKS token. */
export class TokenRejected extends Error {}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Decodes and structurally checks a token; throws `TokenRejected` with the reason. */
export function decodeEksToken(token: string, maxExpiresSeconds = 900): DecodedEksToken {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new TokenRejected('token does not start with k8s-aws-v1.');
  const body = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new TokenRejected('token body is not unpadded base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new TokenRejected('token body is not a URL');
  }
  const host = /^sts\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname);
  if (url.protocol !== 'https:' || !host || url.port !== '') throw new TokenRejected(`not a regional STS URL: ${url.origin}`);
  const region = host[1] ?? '';
  if (url.pathname !== '/') throw new TokenRejected('STS path must be /');
  const q = url.searchParams;
  if (q.get('Action') !== 'GetCallerIdentity') throw new TokenRejected('Action must be GetCallerIdentity');
  if (q.get('Version') !== '2011-06-15') throw new TokenRejected('Version must be 2011-06-15');
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new TokenRejected('X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  const credential = q.get('X-Amz-Credential')?.split('/') ?? [];
  if (credential.length !== 5 || credential[2] !== region || credential[3] !== 'sts' || credential[4] !== 'aws4_request') {
    throw new TokenRejected('X-Amz-Credential scope must be <key>/<date>/<region>/sts/aws4_request');
  }
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires <= 0 || expires > maxExpiresSeconds) {
    throw new TokenRejected(`X-Amz-Expires must be 1..${maxExpiresSeconds}`);
  }
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-k8s-aws-id')) {
    throw new TokenRejected('X-Amz-SignedHeaders must include host and x-k8s-aws-id');
  }
  if (!/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')) throw new TokenRejected('X-Amz-Signature missing');
  const d = AMZ_DATE.exec(q.get('X-Amz-Date') ?? '');
  if (!d) throw new TokenRejected('X-Amz-Date missing');
  const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
  if (credential[1] !== (q.get('X-Amz-Date') ?? '').slice(0, 8)) throw new TokenRejected('credential date differs from X-Amz-Date');
  return { url, region, signedHeaders, expiresSeconds: expires, signingDate };
}

/** Full check as the fake API server applies it; resolves to the decoded token or throws `TokenRejected`. */
export async function checkEksToken(token: string, options: TokenCheckOptions = {}): Promise<DecodedEksToken> {
  const decoded = decodeEksToken(token, options.maxExpiresSeconds ?? 900);
  if (options.now) {
    const age = options.now.getTime() - decoded.signingDate.getTime();
    if (age > 15 * 60_000) throw new TokenRejected('token expired (older than 15 minutes)');
    if (age < -5 * 60_000) throw new TokenRejected('token signed in the future');
  }
  if (options.verify) {
    const { url, region, signedHeaders, expiresSeconds, signingDate } = decoded;
    const signer = new SignatureV4({ credentials: options.verify.credentials, region, service: 'sts', sha256: Sha256 });
    const headers: Record<string, string> = { host: url.hostname, 'x-k8s-aws-id': options.verify.clusterName };
    const unsigned = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: Object.fromEntries(Object.entries(headers).filter(([k]) => signedHeaders.includes(k))),
    });
    const expected = await signer.presign(unsigned, { expiresIn: expiresSeconds, signingDate });
    if (expected.query?.['X-Amz-Signature'] !== url.searchParams.get('X-Amz-Signature')) {
      throw new TokenRejected('signature does not match (wrong credentials or cluster name)');
    }
  }
  return decoded;
}
