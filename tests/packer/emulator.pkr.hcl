# Shared by every test template (the tests copy it beside one of them): the
# variables kiln hands a bake (as PKR_VAR_kiln_*), and the emulator's stand-in for
# packer/base.pkr.hcl's source, an official Ubuntu image found by filter, with
# nothing to provision (communicator "none", EC2 calls sent to the emulator).
variable "kiln_app" {
  type = string
}

variable "kiln_role" {
  type = string
}

variable "kiln_region" {
  type = string
}

variable "kiln_source_ami" {
  type    = string
  default = ""
}

variable "kiln_ami_name" {
  type = string
}

variable "kiln_git_sha" {
  type    = string
  default = ""
}

variable "kiln_ec2_endpoint" {
  type    = string
  default = ""
}

source "amazon-ebs" "ubuntu" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = var.kiln_ami_name
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"]
    most_recent = true
  }
  communicator               = "none"
  custom_endpoint_ec2        = var.kiln_ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
  run_tags = {
    kiln-test-app = var.kiln_app
  }
  tags = {
    Name = var.kiln_ami_name
  }
}
