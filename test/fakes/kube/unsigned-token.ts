/**
 * An EKS token of the right shape whose signature is not real (`k8s-aws-v1.` + base64url of a presigned
 * STS GetCallerIdentity URL): for the pod forwarder's tests and the bench, which run the fake Kubernetes API
 * with its signature check off. The Lambdas' tokens are real (functions/_core/adapters/kube/eks-token.ts).
 */
export function unsignedEksToken(now = new Date()): string {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const q = new URLSearchParams({
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `AKIDEXAMPLE/${amzDate.slice(0, 8)}/us-east-1/sts/aws4_request`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    'X-Amz-Signature': 'a'.repeat(64),
  });
  return `k8s-aws-v1.${Buffer.from(`https://sts.us-east-1.amazonaws.com/?${q.toString()}`).toString('base64url')}`;
}
