# Blue/green cluster migration behind one ALB rule, as quiesce's traffic shift uses it.
# - One weighted forward action: blue (old cluster) and green (new cluster) target groups. Terraform owns the
#   rule (NOT the AWS Load Balancer Controller: no Ingress for it, so no ingress.k8s.aws/stack or
#   elbv2.k8s.aws/cluster tags; quiesce refuses rules that carry them).
# - Each cluster binds its pods to its own target group with a TargetGroupBinding (LBC CRD): the LBC manages
#   TARGETS, never the rule.
# - quiesce owns the weights at run time: ignore_changes keeps terraform from fighting it.

variable "vpc_id" { type = string }
variable "https_listener_arn" { type = string }
variable "event_bus_name" { default = "quiesce" }

resource "aws_lb_target_group" "shop" {
  for_each    = toset(["blue", "green"])
  name        = "shop-${each.key}"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  health_check {
    path    = "/healthz"
    matcher = "200"
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
    host_header { values = ["shop.example.com"] }
  }
  lifecycle {
    # quiesce moves the weights (verified, gated, rolled back on failure); terraform must not undo them.
    ignore_changes = [action]
  }
}

# The traffic plan quiesce reads (TRAFFIC_PLANS): rendered here because terraform knows every ARN.
locals {
  traffic_plans = jsonencode({
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

# Locks, idempotency keys, remembered weights. TTL on expiresAt (lazy: quiesce also checks it itself).
resource "aws_dynamodb_table" "quiesce_state" {
  name         = "quiesce-state"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }
}

resource "aws_ssm_parameter" "webhook_token" {
  name  = "/quiesce/webhook-token"
  type  = "SecureString"
  value = "change-me" # set out of band; ArgoCD's argocd-notifications-secret holds the same value
  lifecycle { ignore_changes = [value] }
}

resource "aws_scheduler_schedule_group" "quiesce" {
  name = "quiesce"
}

data "aws_cloudwatch_event_bus" "quiesce" { name = var.event_bus_name }

# Scheduler delivers step events to the bus (events:PutEvents only on that bus, only the shift's own
# source and detail-types: a schedule cannot put any other event there).
resource "aws_iam_role" "scheduler" {
  name = "quiesce-scheduler"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "scheduler.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  inline_policy {
    name = "put-step-events"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect    = "Allow"
        Action    = "events:PutEvents"
        Resource  = data.aws_cloudwatch_event_bus.quiesce.arn
        Condition = { StringEquals = { "events:source" = "quiesce", "events:detail-type" = ["Traffic Shift Step Due", "Weighted Rule Failover Check"] } }
      }]
    })
  }
}

# The traffic-shift function's environment (function resource itself: see serverless.yml / your module):
output "traffic_shift_environment" {
  value = {
    TRAFFIC_PLANS          = local.traffic_plans
    STATE_TABLE            = aws_dynamodb_table.quiesce_state.name
    EVENT_BUS              = var.event_bus_name
    STEP_EVENT_BUS_ARN     = data.aws_cloudwatch_event_bus.quiesce.arn
    SCHEDULER_ROLE_ARN     = aws_iam_role.scheduler.arn
    SCHEDULER_GROUP        = aws_scheduler_schedule_group.quiesce.name
    FAILOVER_LISTENER_ARNS = var.https_listener_arn
  }
}
