variable "app" {
  description = "Name of the service; prefixes the launch template"
  type        = string
}

variable "region" {
  type    = string
  default = "us-east-1"
}

# The AMI to launch. kiln deploy --via terraform --terraform-var image_id sets it.
variable "image_id" {
  description = "AMI id for the web tier"
  type        = string
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

# Per-workspace name suffix, so staging and production keep separate templates.
variable "workspace_suffix" {
  type = map(string)
  default = {
    default    = ""
    staging    = "-stg"
    production = "-prod"
  }
}
