# Blue/green cluster migration behind one ALB rule, as quiesce's traffic shift uses it.
# - One weighted forward action: blue (old cluster) and green (new cluster) target groups. Terraform owns the
#   rule (NOT the AWS Load Balancer Controller: no Ingress for it, so no ingress.k8s.aws/stack or
#   elbv2.k8s.aws/cluster tags on the rule; quiesce refuses rules that carry them).
# - Each cluster binds its pods to its own target group with a TargetGroupBinding (LBC CRD): the LBC manages
#   TARGETS, never the rule. Each group carries the tag quiesce's IAM conditions require before it may
#   deregister its targets: <TargetGroupTagKey> = the cluster whose pods it holds.
# - quiesce owns the weights at run time: ignore_changes keeps terraform from fighting it.
#
# Everything quiesce itself uses (bus, state table, schedule group, Scheduler role, token parameter) belongs
# to the quiesce stack of the NEW cluster: this module creates none of it and reads the stack's outputs.
# Inputs: quiesce_stack_name from `npm run render` (terraform.tfvars.json), the rest are the application's.
#   terraform apply -var-file=../../dist/deploy/$STAGE/terraform.tfvars.json -var vpc_id=... \
#     -var https_listener_arn=... -var old_cluster_name=... -var host=shop.example.com
# then hand the plan to the stack:
#   npx osls deploy ... --param="trafficPlans=$(terraform output -raw traffic_plans)"

variable "quiesce_stack_name" {
  description = "The quiesce stack of the new (green) cluster: StackName output, written by npm run render"
  type        = string
}
variable "vpc_id" { type = string }
variable "https_listener_arn" { type = string }
variable "old_cluster_name" {
  description = "The EKS cluster whose pods the blue target group holds (the green one is the stack's ClusterName)"
  type        = string
}
variable "host" {
  type    = string
  default = "shop.example.com"
}

data "aws_cloudformation_stack" "quiesce" {
  name = var.quiesce_stack_name
}

locals {
  quiesce = data.aws_cloudformation_stack.quiesce.outputs
  cluster_of = {
    blue  = var.old_cluster_name
    green = local.quiesce["ClusterName"]
  }
}

resource "aws_lb_target_group" "shop" {
  for_each    = local.cluster_of
  name        = "shop-${each.key}"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    path    = "/healthz"
    matcher = "200"
  }
  # The IAM condition of quiesce's DeregisterTargets (infra/serverless/iam.yml): this cluster's groups only.
  tags = {
    (local.quiesce["TargetGroupTagKey"]) = each.value
  }
}

resource "aws_lb_listener_rule" "shop" {
  listener_arn = var.https_listener_arn
  priority     = 10
  action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.shop["blue"].arn
        weight = 100
      }
      target_group {
        arn    = aws_lb_target_group.shop["green"].arn
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

# The traffic plan quiesce reads (TRAFFIC_PLANS, the stack's trafficPlans param): rendered here because
# terraform knows every ARN.
output "traffic_plans" {
  value = jsonencode({
    apps = {
      shop = {
        ruleArn      = aws_lb_listener_rule.shop.arn
        from         = aws_lb_target_group.shop["blue"].arn
        to           = aws_lb_target_group.shop["green"].arn
        steps        = [10, 50, 100]
        pauseSeconds = 300
        gate         = { minHealthyTargets = 2 }
        destination  = "green"
      }
    }
  })
}

# Listeners whose weighted rules fail over when a group loses its healthy targets (failoverListenerArns).
output "failover_listener_arns" {
  value = var.https_listener_arn
}
