# ---------------------------------------------------------------------------------------
# The application and where it runs
# ---------------------------------------------------------------------------------------

variable "app_name" {
  description = "The application as kiln knows it (kiln.toml `app`, tag kiln:app). Lowercase letters, digits and '-' here, because it also names AWS resources."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.app_name))
    error_message = "app_name: 1-20 lowercase letters, digits or '-', starting with a letter or digit (kiln accepts more, but the ALB and target group names built from it do not)."
  }
}

variable "environment" {
  description = "The environment this copy of the stack serves (e.g. staging, production); part of every resource name."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,9}$", var.environment))
    error_message = "environment: 1-10 lowercase letters, digits or '-'."
  }
}

variable "region" {
  description = "The region of the stack (kiln.toml `region`)."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# The image registry (owned by kiln, not by Terraform)
# ---------------------------------------------------------------------------------------

variable "parameter_prefix" {
  description = "kiln's registry prefix in SSM Parameter Store (kiln.toml `parameter_prefix`). The parameters <prefix>/<app>/<role> are created and versioned by kiln; this stack only scopes the CI policies to them."
  type        = string
  default     = "/kiln"

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.parameter_prefix)) && !startswith(lower(var.parameter_prefix), "/aws")
    error_message = "parameter_prefix: an SSM path such as /kiln, without a trailing '/', not under /aws."
  }
}

variable "source_image_owners" {
  description = "Accounts whose AMIs `kiln bake base` may start from (Packer's source_ami_filter owners). Default: Canonical, the publisher of the official Ubuntu images packer/base.pkr.hcl uses. The stack's own account is always allowed (app images start from the base)."
  type        = list(string)
  default     = ["099720109477"]
}

# ---------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "The VPC's CIDR block. The four subnets each take a sixteenth of it: public in blocks 0-1, private in blocks 8-9 (/20s of a /16)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr: an IPv4 CIDR block from /16 to /22 (the load balancer needs subnets of /27 or larger)."
  }
}

variable "availability_zones" {
  description = "The two availability zones of the subnets, by name. Empty: <region>a and <region>b."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 2
    error_message = "availability_zones: two zone names, or none for <region>a and <region>b."
  }
}

variable "flow_log_retention_days" {
  description = "How long VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener. When set, port 443 serves the app and port 80 redirects to it; when null, port 80 forwards to the app over plain HTTP (for a first try without a domain only)."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "ingress_cidr_blocks" {
  description = "Who may reach the load balancer on ports 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer from deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "alb_access_logs_bucket" {
  description = "S3 bucket for ALB access logs (its policy must allow the region's ELB log delivery). Null: no access logs."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------
# The application's instances
# ---------------------------------------------------------------------------------------

variable "ami_id" {
  description = "The AMI the launch template starts with: the first image kiln baked and verified (`kiln status` shows it). After that kiln deploy pins each new AMI in a new launch template version, and Terraform leaves those alone (see compute.tf); `kiln deploy --via terraform` passes this variable instead."
  type        = string

  validation {
    condition     = can(regex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$", var.ami_id))
    error_message = "ami_id: `ami-` followed by 8 or 17 lowercase hex digits."
  }
}

variable "instance_type" {
  description = "Instance type of the application's instances."
  type        = string
  default     = "t3.small"
}

variable "app_port" {
  description = "The port the app (nginx in the reference image) listens on, behind the load balancer."
  type        = number
  default     = 80

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535
    error_message = "app_port: 1-65535."
  }
}

variable "health_check_path" {
  description = "The app's health endpoint, checked by the target group (and so by the ASG's ELB health checks and kiln deploy's waits)."
  type        = string
  default     = "/healthz"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with '/'."
  }
}

variable "root_volume_size_gb" {
  description = "Root volume size; at least the AMI's snapshot size."
  type        = number
  default     = 8
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the instances' EBS volumes. Null: the account's default EBS key (aws/ebs), which needs no grants in the CI policies."
  type        = string
  default     = null
}

variable "asg_min_size" {
  description = "Smallest size of the group."
  type        = number
  default     = 2
}

variable "asg_max_size" {
  description = "Largest size of the group; leave room above desired for rolling batches and instance refreshes."
  type        = number
  default     = 6
}

variable "asg_desired_capacity" {
  description = "Size of the group when it is created. After that, scaling policies and kiln own it (ignored by Terraform)."
  type        = number
  default     = 2
}

variable "health_check_grace_period" {
  description = "Seconds after launch before the ASG acts on failed ELB health checks."
  type        = number
  default     = 120
}

variable "app_role_policy_arns" {
  description = "Extra managed policies for the application's instance role (e.g. CloudWatchAgentServerPolicy when the CloudWatch agent ships metrics)."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------
# CI: GitHub Actions through OIDC
# ---------------------------------------------------------------------------------------

variable "github_repository" {
  description = "The repository whose workflows may assume the CI role, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository: owner/name."
  }
}

variable "github_allowed_refs" {
  description = "Git refs whose workflow runs may assume the CI role (OIDC sub `repo:<repo>:ref:<ref>`); wildcards allowed, e.g. refs/tags/v*."
  type        = list(string)
  default     = ["refs/heads/main"]
}

variable "github_environments" {
  description = "GitHub environments whose jobs may assume the CI role (OIDC sub `repo:<repo>:environment:<name>`). A job that names an environment gets that sub instead of the ref one."
  type        = list(string)
  default     = []
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC identity provider. Set false when the account already has one (there can be only one per URL); it is then looked up."
  type        = bool
  default     = true
}

variable "ci_max_session_duration" {
  description = "Longest CI role session, in seconds: a bake plus verify plus deploy must fit."
  type        = number
  default     = 7200
}
