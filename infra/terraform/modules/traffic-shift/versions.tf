# The providers this module needs, pinned: aws 5.x (aws_lb_listener_rule's weighted forward with
# stickiness, aws_cloudformation_stack's outputs). terraform validate runs it against hashicorp/aws 5.100
# (test/deliverables/terraform.test.ts).
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 6.0.0"
    }
  }
}
