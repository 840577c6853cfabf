# The stack's outputs, each as an output of the module (snake_case of its OutputKey), and all of them as
# `outputs`: what the cluster side, Argo CD and the traffic-shift module consume
# (test/deliverables/terraform.test.ts keeps this list equal to the released template's Outputs).

output "outputs" {
  description = "Every output of the quiesce stack, by OutputKey"
  value       = aws_cloudformation_stack.quiesce.outputs
}

output "stack_name" {
  value = aws_cloudformation_stack.quiesce.outputs["StackName"]
}

output "version" {
  value = aws_cloudformation_stack.quiesce.outputs["Version"]
}

output "stage" {
  value = aws_cloudformation_stack.quiesce.outputs["Stage"]
}

output "cluster_name" {
  value = aws_cloudformation_stack.quiesce.outputs["ClusterName"]
}

output "region" {
  value = aws_cloudformation_stack.quiesce.outputs["Region"]
}

output "target_group_tag_key" {
  value = aws_cloudformation_stack.quiesce.outputs["TargetGroupTagKey"]
}

output "event_bus_name" {
  value = aws_cloudformation_stack.quiesce.outputs["EventBusName"]
}

output "event_bus_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["EventBusArn"]
}

output "state_table_name" {
  value = aws_cloudformation_stack.quiesce.outputs["StateTableName"]
}

output "schedule_group_name" {
  value = aws_cloudformation_stack.quiesce.outputs["ScheduleGroupName"]
}

output "webhook_token_parameter_name" {
  value = aws_cloudformation_stack.quiesce.outputs["WebhookTokenParameterName"]
}

output "traffic_plans_path" {
  value = aws_cloudformation_stack.quiesce.outputs["TrafficPlansPath"]
}

output "deploy_webhook_url" {
  value = aws_cloudformation_stack.quiesce.outputs["DeployWebhookUrl"]
}

output "spot_interruption_role_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["SpotInterruptionRoleArn"]
}

output "sweeper_role_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["SweeperRoleArn"]
}

output "pod_events_role_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["PodEventsRoleArn"]
}

output "reader_group" {
  value = aws_cloudformation_stack.quiesce.outputs["ReaderGroup"]
}

output "pod_forwarder_role_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["PodForwarderRoleArn"]
}

output "forwarder_namespace" {
  value = aws_cloudformation_stack.quiesce.outputs["ForwarderNamespace"]
}

output "forwarder_service_account" {
  value = aws_cloudformation_stack.quiesce.outputs["ForwarderServiceAccount"]
}

output "forwarder_image_repository_uri" {
  value = aws_cloudformation_stack.quiesce.outputs["ForwarderImageRepositoryUri"]
}

output "node_signal_dead_letter_queue_url" {
  value = aws_cloudformation_stack.quiesce.outputs["NodeSignalDeadLetterQueueUrl"]
}

output "events_dead_letter_queue_url" {
  value = aws_cloudformation_stack.quiesce.outputs["EventsDeadLetterQueueUrl"]
}

output "async_failure_queue_url" {
  value = aws_cloudformation_stack.quiesce.outputs["AsyncFailureQueueUrl"]
}

output "alarm_topic_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["AlarmTopicArn"]
}

output "audit_log_group_name" {
  value = aws_cloudformation_stack.quiesce.outputs["AuditLogGroupName"]
}

output "audit_archive_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["AuditArchiveArn"]
}

output "paging_topic_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["PagingTopicArn"]
}

output "dashboard_url" {
  value = aws_cloudformation_stack.quiesce.outputs["DashboardUrl"]
}

output "spot_interruption_lambda_function_qualified_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["SpotInterruptionLambdaFunctionQualifiedArn"]
}

output "sweeper_lambda_function_qualified_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["SweeperLambdaFunctionQualifiedArn"]
}

output "pod_events_lambda_function_qualified_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["PodEventsLambdaFunctionQualifiedArn"]
}

output "deploy_webhook_lambda_function_qualified_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["DeployWebhookLambdaFunctionQualifiedArn"]
}

output "traffic_shift_lambda_function_qualified_arn" {
  value = aws_cloudformation_stack.quiesce.outputs["TrafficShiftLambdaFunctionQualifiedArn"]
}

output "deploy_webhook_lambda_function_url" {
  value = aws_cloudformation_stack.quiesce.outputs["DeployWebhookLambdaFunctionUrl"]
}
