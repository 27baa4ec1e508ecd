# Test template: an app template as many repositories write one, built on its own
# `base_ami` variable (set with -var or a variable file), not on the base kiln hands
# it as kiln_source_ami.
variable "base_ami" {
  type        = string
  description = "The AMI to build the web image on."
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

source "amazon-ebs" "web" {
  region                     = var.kiln_region
  instance_type              = var.instance_type
  ami_name                   = var.kiln_ami_name
  source_ami                 = var.base_ami
  communicator               = "none"
  custom_endpoint_ec2        = var.kiln_ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
  run_tags = {
    kiln-test-app = var.kiln_app
  }
  tags = {
    Name       = var.kiln_ami_name
    source-ami = "{{ .SourceAMI }}"
  }
}

build {
  sources = ["source.amazon-ebs.web"]
}
