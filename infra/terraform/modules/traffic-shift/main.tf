# One application's blue/green migration behind one ALB rule, as quiesce's traffic shift uses it.
# - One weighted forward action: blue (old cluster) and green (new cluster) target groups. Terraform owns the
#   rule (NOT the AWS Load Balancer Controller: no Ingress for it, so no ingress.k8s.aws/stack or
#   elbv2.k8s.aws/cluster tags on the rule; quiesce refuses rules that carry them).
# - Each cluster binds its pods to its own target group with a TargetGroupBinding (LBC CRD,
#   target-group-binding.yaml): the LBC manages TARGETS, never the rule. Each group carries the tag quiesce's
#   IAM conditions require before it may deregister its targets: <TargetGroupTagKey> = the cluster whose
#   pods it holds.
# - quiesce owns the weights at run time: ignore_changes keeps terraform from fighting it.
# - The app's traffic plan goes where the new cluster's stage reads it: the SSM String parameter
#   <TrafficPlansPath>/<app> (one per app, so any number of apps; no redeploy of the stack).
#
# Everything quiesce itself uses belongs to the quiesce stack of the NEW cluster: this module reads its
# outputs by the stack's name (quiesce-<stage>) and creates nothing the stack owns.
#
#   module "shop" {
#     source           = "github.com/quiesce-dev/quiesce//infra/terraform/modules/traffic-shift?ref=v0.2.0"
#     app              = "shop"
#     quiesce_stage    = "green"
#     listener_arn     = aws_lb_listener.https.arn
#     priority         = 10
#     host             = "shop.example.com"
#     vpc_id           = var.vpc_id
#     old_cluster_name = "blue"
#   }

data "aws_cloudformation_stack" "quiesce" {
  name = "quiesce-${var.quiesce_stage}"
}

locals {
  quiesce = data.aws_cloudformation_stack.quiesce.outputs
  cluster_of = {
    blue  = var.old_cluster_name
    green = local.quiesce["ClusterName"]
  }
}

resource "aws_lb_target_group" "app" {
  for_each    = local.cluster_of
  name        = "${var.app}-${each.key}"
  port        = var.port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    path    = var.health_check_path
    matcher = "200"
  }
  # The IAM condition of quiesce's DeregisterTargets (infra/serverless/iam.yml): this cluster's groups only.
  tags = {
    (local.quiesce["TargetGroupTagKey"]) = each.value
  }
}

resource "aws_lb_listener_rule" "app" {
  listener_arn = var.listener_arn
  priority     = var.priority
  action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.app["blue"].arn
        weight = 100
      }
      target_group {
        arn    = aws_lb_target_group.app["green"].arn
        weight = 0
      }
      stickiness {
        enabled  = true
        duration = 300
      }
    }
  }
  condition {
    host_header { values = [var.host] }
  }
  lifecycle {
    # quiesce moves the weights (verified, gated, rolled back on failure); terraform must not undo them.
    ignore_changes = [action]
  }
}

# The app's traffic plan (functions/traffic-shift/config.ts): where the stage's traffic-shift function reads
# it, reviewed in the same change that makes the rule. Standard tier: a plan is a few hundred bytes.
resource "aws_ssm_parameter" "traffic_plan" {
  name = "${local.quiesce["TrafficPlansPath"]}/${var.app}"
  type = "String"
  tier = "Standard"
  value = jsonencode({
    ruleArn      = aws_lb_listener_rule.app.arn
    from         = aws_lb_target_group.app["blue"].arn
    to           = aws_lb_target_group.app["green"].arn
    steps        = var.steps
    pauseSeconds = var.pause_seconds
    gate         = { minHealthyTargets = var.min_healthy_targets }
    destination  = var.argocd_destination
  })
}
