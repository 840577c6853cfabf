# The stage: the same name `npx osls deploy --stage` takes. Every name the stack creates is made from it
# (infra/names.yml): the stack is quiesce-<stage>.
variable "stage" {
  description = "The quiesce stage: 1 to 20 characters, a-z, 0-9 and inner hyphens"
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$", var.stage))
    error_message = "A stage name is 1 to 20 characters, a-z, 0-9 and inner hyphens (it is part of every name the stage creates)."
  }
}

# Where the release's assets are (unpacked from the GitHub release, or written by `npm run release`):
# release.json names the template and the zips, with their SHA-256.
variable "release_dir" {
  description = "Directory holding a quiesce release's assets (release.json, the CloudFormation template, the Lambda zips)"
  type        = string
}

variable "artifacts_bucket" {
  description = "An existing S3 bucket (in the stack's Region) the template and the zips are uploaded to"
  type        = string
}

variable "artifacts_prefix" {
  description = "Key prefix in the artifacts bucket"
  type        = string
  default     = "quiesce"
}

variable "tags" {
  description = "Tags of the stack (CloudFormation passes them to the resources that take tags)"
  type        = map(string)
  default     = {}
}

# --- The stage's settings: one variable per setting the stack takes as a parameter (infra/stage-settings.yml,
# same defaults; docs/configuration.md). The Region is the provider's.

variable "cluster_name" {
  description = "The EKS cluster this stage serves (CLUSTER_NAME)"
  type        = string
}

variable "dry_run" {
  description = "Plan and publish audit events, write nothing (DRY_RUN). Set false once the dry-run plans have been reviewed"
  type        = bool
  default     = true
}

variable "cloud_map_namespaces" {
  description = "Cloud Map namespaces in scope, names or ids (empty = Cloud Map untouched)"
  type        = list(string)
  default     = []
}

variable "cloud_map_owner_attributes" {
  description = "Attributes (k=v,...) a Cloud Map instance must carry to be this cluster's"
  type        = string
  default     = ""
}

variable "rebalance_action" {
  description = "What spot-interruption does on an EC2 rebalance recommendation: ignore or deregister"
  type        = string
  default     = "ignore"
}

variable "scheduled_change_lead_seconds" {
  description = "An AWS Health scheduled change's node leaves traffic this many seconds before the change starts"
  type        = number
  default     = 600
}

variable "min_healthy_targets" {
  description = "Never take a target group or Cloud Map service below this many healthy registrations early"
  type        = number
  default     = 1
}

variable "failover_listener_arns" {
  description = "Listeners whose weighted rules fail over when a target group loses its healthy targets"
  type        = list(string)
  default     = []
}

variable "elb_budget_share" {
  description = "This stage's share of the account's ELB token buckets: one fraction or describe=..,register=..; empty = the defaults"
  type        = string
  default     = ""
}

variable "log_level" {
  description = "The functions' log level: DEBUG, INFO, WARN or ERROR"
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "How long the functions' log groups keep their events (a value CloudWatch Logs accepts)"
  type        = number
  default     = 30
}

variable "audit_retention_days" {
  description = "How long the audit trail is kept (days): the bus archive and the audit log group (a value CloudWatch Logs accepts)"
  type        = number
  default     = 90
}

variable "pod_event_silence_hours" {
  description = "No pod event for this many hours raises the pod-events-silent alarm (1..168)"
  type        = number
  default     = 24
}

variable "sweep_overdue_factor" {
  description = "A full sweep not completed within this many expected intervals raises the sweeper-overdue alarm (2..100)"
  type        = number
  default     = 3
}

variable "scope_max_age_seconds" {
  description = "How old the stored in-scope set of target groups may be and still answer a spot warning (0..86400; 0 = never)"
  type        = number
  default     = 1800
}

variable "index_vouch_seconds" {
  description = "How old the sweeper's reading of a target group may be and still vouch for it when the cluster API cannot answer (0..86400; at least the full-sweep duration)"
  type        = number
  default     = 3600
}

variable "shared_elb_budget" {
  description = "Concurrent invocations of the stage divide its ELB shares through leases in the state table"
  type        = bool
  default     = true
}

variable "cluster_access_entries" {
  description = "Create the EKS access entries of the spot-interruption, sweeper and pod-events roles"
  type        = bool
  default     = true
}

variable "forwarder_pod_identity" {
  description = "Associate the pod forwarder's role with its ServiceAccount through EKS Pod Identity"
  type        = bool
  default     = true
}

variable "cluster_subnet_ids" {
  description = "Private subnets for the functions that call the cluster API (empty = outside any VPC)"
  type        = list(string)
  default     = []
}

variable "cluster_security_group_ids" {
  description = "Security groups for those functions (allowed to reach the cluster endpoint on 443)"
  type        = list(string)
  default     = []
}

variable "lifecycle_notification_topic_arns" {
  description = "SNS topics the node-signal queue subscribes to (lifecycle hooks notifying through SNS), the only topics whose messages it takes"
  type        = list(string)
  default     = []
}

variable "lifecycle_notification_role_arns" {
  description = "Roles Auto Scaling assumes to notify the node-signal queue directly (a lifecycle hook's role), allowed to send to it"
  type        = list(string)
  default     = []
}

variable "node_signal_redrive_role_arns" {
  description = "Roles allowed to redrive node-signals-dlq into the node-signal queue (a redrive sends as its caller)"
  type        = list(string)
  default     = []
}

variable "event_exporter_role_arns" {
  description = "kubernetes-event-exporter's roles, the only principals that may put \"Kubernetes Event\" on the quiesce bus (empty = nobody)"
  type        = list(string)
  default     = []
}
