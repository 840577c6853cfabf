# EKS access for quiesce's Lambda roles: the sweeper (lists pods and TargetGroupBindings to learn what is
# alive and which target groups the cluster owns) and pod-events (reads a pod to resolve the IP of a
# kubernetes-event-exporter "Killing" event). Read-only, and only these two resources.
#
# Why not AmazonEKSViewPolicy alone: it maps to the `view` ClusterRole, which covers pods but not the
# elbv2.k8s.aws TargetGroupBinding custom resource (view only aggregates CRDs that opt in). So the access
# entry maps the roles to a Kubernetes group, and a ClusterRole bound to that group grants exactly
# get/list on pods and targetgroupbindings. No access policy is associated: RBAC alone decides.
#
# Requires the cluster's authenticationMode API or API_AND_CONFIG_MAP
# (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html) and the kubernetes provider
# configured for the cluster. Role ARNs: the stack outputs SweeperRoleArn and PodEventsRoleArn
# (`npx osls info --stage prod --verbose`). Variables are prefixed: this file may share a module.

variable "quiesce_cluster_name" {
  description = "EKS cluster quiesce serves (the serverless.yml param clusterName)"
  type        = string
}

variable "quiesce_reader_role_arns" {
  description = "IAM role ARNs that read the cluster: the SweeperRoleArn and PodEventsRoleArn stack outputs"
  type        = list(string)
}

variable "quiesce_kubernetes_group" {
  description = "Kubernetes group the access entries map the roles to"
  type        = string
  default     = "quiesce:readers"
}

resource "aws_eks_access_entry" "quiesce_reader" {
  for_each          = toset(var.quiesce_reader_role_arns)
  cluster_name      = var.quiesce_cluster_name
  principal_arn     = each.value
  type              = "STANDARD"
  kubernetes_groups = [var.quiesce_kubernetes_group]
}

resource "kubernetes_cluster_role_v1" "quiesce_reader" {
  metadata {
    name   = "quiesce-reader"
    labels = { "app.kubernetes.io/name" = "quiesce" }
  }
  rule {
    api_groups = [""]
    resources  = ["pods"]
    verbs      = ["get", "list"]
  }
  rule {
    api_groups = ["elbv2.k8s.aws"]
    resources  = ["targetgroupbindings"]
    verbs      = ["get", "list"]
  }
}

resource "kubernetes_cluster_role_binding_v1" "quiesce_reader" {
  metadata {
    name   = "quiesce-reader"
    labels = { "app.kubernetes.io/name" = "quiesce" }
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.quiesce_reader.metadata[0].name
  }
  subject {
    kind      = "Group"
    name      = var.quiesce_kubernetes_group
    api_group = "rbac.authorization.k8s.io"
  }
}
