# Test template: the Graviton variant of app.pkr.hcl beside it, its own bake.
# (The emulator has no arm64 base image: it differs by instance type and tags.)
variable "kiln_region" {
  type = string
}

variable "kiln_source_ami" {
  type = string
}

variable "kiln_ami_name" {
  type = string
}

variable "kiln_app" {
  type = string
}

variable "kiln_ec2_endpoint" {
  type    = string
  default = ""
}

source "amazon-ebs" "web_arm" {
  region                     = var.kiln_region
  source_ami                 = var.kiln_source_ami
  instance_type              = "t4g.small"
  ami_name                   = var.kiln_ami_name
  communicator               = "none"
  custom_endpoint_ec2        = var.kiln_ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
  run_tags = {
    kiln-test-app = var.kiln_app
  }
  tags = {
    Name         = var.kiln_ami_name
    architecture = "arm64"
  }
}

build {
  name    = "web-arm"
  sources = ["source.amazon-ebs.web_arm"]
}
