/**
 * The fake Kubernetes API for tests (see fake-kube-api.ts): one import for the server, the object builders
 * and the EKS token checks, so tests of the Lambda client and of the pod forwarder share one fake.
 */
export { FakeKubeApi, FAKE_KUBE_CA_PEM, kubeStatus } from './fake-kube-api.ts';
export type { FakeKind, FakeKubeApiOptions, KubeAuthenticator, KubeUser, RecordedRequest, ResourceAttributes, WatchEvent } from './fake-kube-api.ts';
export { buildEndpointSlice, buildPod, buildService, buildTargetGroupBinding, compileFilter, patchPod } from './objects.ts';
export type { ContainerPortSeed, EndpointSliceSeed, ServiceSeed, KubeObject, KubeObjectMeta, ObjectFilter, PodSeed, TargetGroupBindingSeed } from './objects.ts';
export { checkEksToken, decodeEksToken, EKS_TOKEN_PREFIX, TokenRejected } from './eks-token-check.ts';
export type { DecodedEksToken, TokenCheckOptions } from './eks-token-check.ts';
