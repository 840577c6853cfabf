# An example root: one quiesce stage (the new cluster's) and one application's blue/green rule, state in S3.
# Copy it into your infrastructure repository; with the modules pinned to a release instead of this
# clone's paths:
#   source = "github.com/quiesce-dev/quiesce//infra/terraform/modules/quiesce?ref=v0.2.0"
#   source = "github.com/quiesce-dev/quiesce//infra/terraform/modules/traffic-shift?ref=v0.2.0"
# and release_dir holding the assets of the same release (gh release download v0.2.0 -D quiesce-0.2.0).
# Upgrading is both refs and the assets moved to the new release together (docs/deploy.md, Releases).

terraform {
  required_version = ">= 1.10.0"
  # State stays out of the clone (*.tfstate is ignored there too): an S3 backend with S3 native locking.
  backend "s3" {
    bucket       = "my-terraform-state"
    key          = "quiesce/green/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

module "quiesce" {
  source           = "../../modules/quiesce"
  stage            = var.stage
  cluster_name     = var.cluster_name
  release_dir      = var.release_dir
  artifacts_bucket = var.artifacts_bucket
  # Reviewed dry-run plans first: then this line is the change that turns writing on.
  dry_run = true
}

module "shop" {
  source = "../../modules/traffic-shift"
  app    = "shop"
  # From the module, not the variable: the rule's plan is written once the stack (its path) exists.
  quiesce_stage    = module.quiesce.stage
  listener_arn     = var.https_listener_arn
  priority         = 10
  host             = "shop.example.com"
  vpc_id           = var.vpc_id
  old_cluster_name = var.old_cluster_name
}
