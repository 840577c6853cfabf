# hashicorp/aws 5.x: aws_cloudformation_stack, aws_s3_object. terraform validate runs against hashicorp/aws
# 5.100 (test/deliverables/terraform.test.ts).
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 6.0.0"
    }
  }
}
