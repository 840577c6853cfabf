variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "stage" {
  type    = string
  default = "green"
}

variable "cluster_name" {
  description = "The new cluster, the one this stage serves"
  type        = string
  default     = "green"
}

variable "old_cluster_name" {
  type    = string
  default = "blue"
}

variable "release_dir" {
  description = "The quiesce release's assets"
  type        = string
  default     = "quiesce-0.2.0"
}

variable "artifacts_bucket" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "https_listener_arn" {
  type = string
}
