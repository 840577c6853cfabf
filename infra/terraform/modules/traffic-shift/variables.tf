variable "app" {
  description = "The ArgoCD application whose syncs shift this rule (also the target groups' name prefix: at most 26 characters)"
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,24}[a-z0-9])?$", var.app))
    error_message = "An ArgoCD application name of at most 26 characters (the target groups are <app>-blue and <app>-green, 32 at most)."
  }
}

variable "quiesce_stage" {
  description = "The quiesce stage of the new (green) cluster: its stack quiesce-<stage> is read, its traffic plans path written"
  type        = string
}

variable "listener_arn" {
  description = "The ALB listener (HTTPS) the rule is added to"
  type        = string
}

variable "priority" {
  description = "The rule's priority on the listener (unique per listener)"
  type        = number
}

variable "host" {
  description = "The host header the rule matches"
  type        = string
}

variable "vpc_id" {
  description = "The VPC of the target groups (both clusters' pods must be reachable in it)"
  type        = string
}

variable "old_cluster_name" {
  description = "The EKS cluster whose pods the blue target group holds (the green one is the stack's ClusterName)"
  type        = string
}

variable "port" {
  description = "The application's container port"
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "The target groups' health check path"
  type        = string
  default     = "/healthz"
}

variable "steps" {
  description = "Percentages of the traffic green carries after each step, strictly increasing, ending at 100"
  type        = list(number)
  default     = [10, 50, 100]
}

variable "pause_seconds" {
  description = "Pause between steps"
  type        = number
  default     = 300
}

variable "min_healthy_targets" {
  description = "Green must have at least this many healthy targets before each step"
  type        = number
  default     = 2
}

variable "argocd_destination" {
  description = "Only syncs to this ArgoCD destination (cluster name or server) start the shift"
  type        = string
  default     = "green"
}
