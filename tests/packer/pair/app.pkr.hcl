# Test template: one of two app templates side by side in one directory, each
# baked on its own (`--template tests/packer/pair/app.pkr.hcl`). Packer loads only
# the file it is given, so each declares the variables it uses.
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

source "amazon-ebs" "web" {
  region                     = var.kiln_region
  source_ami                 = var.kiln_source_ami
  instance_type              = "t3.small"
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
    architecture = "x86_64"
  }
}

build {
  name    = "web"
  sources = ["source.amazon-ebs.web"]
}
