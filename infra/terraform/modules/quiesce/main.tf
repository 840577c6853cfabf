# quiesce for a terraform shop: the very stack `npx osls deploy` makes, from a release's assets.
#
# One definition: the release's CloudFormation template is what osls packages (scripts/release.ts packages
# the service and only turns the stage's name and the code's location into parameters; a test shows that
# this template, given stage prod's parameters, is the template `osls deploy --stage prod` deploys). The
# module uploads the template and the release's Lambda zips to an S3 bucket of yours and creates the stack
# with aws_cloudformation_stack; the stage's settings are the stack's parameters (variables.tf mirrors
# infra/stage-settings.yml), its outputs are this module's (outputs.tf).
#
#   module "quiesce" {
#     source       = "github.com/quiesce-dev/quiesce//infra/terraform/modules/quiesce?ref=v0.2.0"
#     stage        = "prod"
#     cluster_name = "prod"
#     release_dir  = "${path.root}/quiesce-0.2.0"   # the v0.2.0 release's assets
#     artifacts_bucket = "my-artifacts"
#   }
#
# Pin the module's ref and the assets to the same release: the module refuses assets of another version.

locals {
  release = jsondecode(file("${var.release_dir}/release.json"))
  # Keys of this release's objects: a new release never overwrites the code a running stack points at.
  prefix = "${trimsuffix(var.artifacts_prefix, "/")}/${var.stage}/${local.release.version}/"
}

data "aws_s3_bucket" "artifacts" {
  bucket = var.artifacts_bucket
}

resource "aws_s3_object" "lambda" {
  for_each = local.release.functions
  bucket   = var.artifacts_bucket
  key      = "${local.prefix}${each.key}.zip"
  source   = "${var.release_dir}/${each.value.file}"
  # The release's SHA-256 of the zip: a changed file is a new upload, the same file none.
  source_hash = each.value.sha256
}

resource "aws_s3_object" "template" {
  bucket      = var.artifacts_bucket
  key         = "${local.prefix}${local.release.template.file}"
  source      = "${var.release_dir}/${local.release.template.file}"
  source_hash = local.release.template.sha256
}

resource "aws_cloudformation_stack" "quiesce" {
  # The stack name osls uses (infra/names.yml `stack`): one stage, one stack, whichever tool deploys it.
  name         = "quiesce-${var.stage}"
  template_url = "https://${data.aws_s3_bucket.artifacts.bucket_regional_domain_name}/${aws_s3_object.template.key}"
  # The stack names its roles (quiesce-<stage>-<function>-<region>).
  capabilities = ["CAPABILITY_NAMED_IAM"]
  parameters = {
    Stage                      = var.stage
    CodeBucket                 = var.artifacts_bucket
    CodeKeyPrefix              = local.prefix
    ClusterName                = var.cluster_name
    DryRun                     = tostring(var.dry_run)
    CloudMapNamespaces         = join(",", var.cloud_map_namespaces)
    CloudMapOwnerAttributes    = var.cloud_map_owner_attributes
    RebalanceAction            = var.rebalance_action
    ScheduledChangeLeadSeconds = tostring(var.scheduled_change_lead_seconds)
    MinHealthyTargets          = tostring(var.min_healthy_targets)
    FailoverListenerArns       = join(",", var.failover_listener_arns)
    ElbBudgetShare             = var.elb_budget_share
    LogLevel                   = var.log_level
    LogRetentionDays           = tostring(var.log_retention_days)
    AuditRetentionDays         = tostring(var.audit_retention_days)
    PodEventSilenceHours       = tostring(var.pod_event_silence_hours)
    SweepOverdueFactor         = tostring(var.sweep_overdue_factor)
    ScopeMaxAgeSeconds         = tostring(var.scope_max_age_seconds)
    IndexVouchSeconds          = tostring(var.index_vouch_seconds)
    SharedElbBudget            = tostring(var.shared_elb_budget)
    ClusterAccessEntries       = tostring(var.cluster_access_entries)
    ForwarderPodIdentity       = tostring(var.forwarder_pod_identity)
    ClusterSubnetIds           = join(",", var.cluster_subnet_ids)
    ClusterSecurityGroupIds    = join(",", var.cluster_security_group_ids)
    # Who may speak to quiesce besides the stack's own roles and rules (docs/security.md).
    LifecycleNotificationTopicArns = join(",", var.lifecycle_notification_topic_arns)
    LifecycleNotificationRoleArns  = join(",", var.lifecycle_notification_role_arns)
    NodeSignalRedriveRoleArns      = join(",", var.node_signal_redrive_role_arns)
    EventExporterRoleArns          = join(",", var.event_exporter_role_arns)
  }
  tags = merge(var.tags, {
    "app"             = "quiesce"
    "quiesce:stage"   = var.stage
    "quiesce:cluster" = var.cluster_name
    "quiesce:version" = local.release.version
  })
  # The code objects exist before the functions that point at them.
  depends_on = [aws_s3_object.lambda]
  timeouts {
    create = "30m"
    update = "30m"
    delete = "30m"
  }
}
