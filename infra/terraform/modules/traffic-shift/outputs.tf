output "listener_rule_arn" {
  value = aws_lb_listener_rule.app.arn
}

# The target group each cluster's TargetGroupBinding names (target-group-binding.yaml).
output "target_group_arns" {
  value = { for k, g in aws_lb_target_group.app : k => g.arn }
}

output "traffic_plan_parameter" {
  description = "The SSM parameter holding this app's traffic plan"
  value       = aws_ssm_parameter.traffic_plan.name
}
