output "deploy_webhook_url" {
  value = module.quiesce.deploy_webhook_url
}

output "shop_target_groups" {
  description = "What each cluster's TargetGroupBinding names"
  value       = module.shop.target_group_arns
}
