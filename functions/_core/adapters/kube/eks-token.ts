/**
 * The EKS bearer token, made without the aws CLI or aws-iam-authenticator: a presigned STS
 * GetCallerIdentity URL with the cluster name in a signed `x-k8s-aws-id` header, wrapped as
 * `k8s-aws-v1.` + unpadded base64url. The API server hands the URL to STS and learns which IAM role is
 * calling; the signed header stops a token for one cluster being replayed against another.
 *
 * Why hand-rolled: @kubernetes/client-node would run `aws eks get-token` through an exec plugin, which a
 * Lambda does not have, and would add megabytes to the bundle. SigV4 presigning is already in the SDK.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials or a provider of them, as the SDK's SigV4 signer accepts them. */
export type EksTokenCredentials = NonNullable<ConstructorParameters<typeof SignatureV4>[0]['credentials']>;

/** Options of `eksToken`. */
export interface EksTokenOptions {
  /** The cluster's region: the token is signed for the regional STS endpoint (the global one is legacy). */
  region: string;
  /** Default: the SDK's default chain (Lambda: the function role's environment credentials). */
  credentials?: EksTokenCredentials;
  /** Signing time; default now. Lets tests pin the token. */
  signingDate?: Date;
  /** X-Amz-Expires; default 60 like `aws eks get-token`. EKS accepts the token for 15 minutes regardless. */
  expiresInSeconds?: number;
}

/** The prefix the API server's AWS authenticator looks for. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

let defaultCredentials: EksTokenCredentials | undefined;

/**
 * The default credential chain, created on first use and then reused: the provider caches credentials and
 * refreshes them before they expire, so one per execution environment is right. Tokens are never cached.
 */
function defaultChain(): EksTokenCredentials {
  defaultCredentials ??= defaultProvider();
  return defaultCredentials;
}

/** RFC 3986 encoding, as SigV4 canonicalises query strings. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Makes a fresh EKS bearer token. Call it in the handler, once per run: a token made at module init would
 * outlive its 15 minutes in a warm Lambda.
 *
 * @example
 * const token = await eksToken('prod', { region: 'eu-west-1' });
 * // Authorization: Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMu...
 */
export async function eksToken(clusterName: string, options: EksTokenOptions): Promise<string> {
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: options.credentials ?? defaultChain(),
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': clusterName },
    }),
    { expiresIn: options.expiresInSeconds ?? 60, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([k, v]) => (v === null || v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => `${rfc3986(k)}=${rfc3986(x)}`)))
    .sort()
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
