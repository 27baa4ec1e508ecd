# Test template: a base built on the newest upstream image, found by filter, as real
# base templates start from the newest official image. The test plays upstream: it
# publishes images named like var.upstream_name in the emulator's account.
variable "upstream_name" {
  type        = string
  description = "Name pattern of the upstream images."
}

variable "upstream_owners" {
  type        = list(string)
  default     = ["123456789012"]
  description = "Accounts that publish the upstream images."
}

source "amazon-ebs" "golden" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = var.kiln_ami_name
  source_ami_filter {
    filters = {
      name             = "${var.upstream_name}"
      root-device-type = "ebs"
    }
    owners      = var.upstream_owners
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
    Name       = var.kiln_ami_name
    source-ami = "{{ .SourceAMI }}"
  }
}

build {
  name    = "base"
  sources = ["source.amazon-ebs.golden"]
}
