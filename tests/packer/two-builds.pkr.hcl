# Test template: one build of two sources (an image per OS release, as many
# teams' templates do); kiln bakes one, chosen with --only.
source "amazon-ebs" "ubuntu-lts" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = "${var.kiln_ami_name}-lts"
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
    Name    = var.kiln_ami_name
    release = "lts"
  }
}

build {
  sources = [
    "source.amazon-ebs.ubuntu",
    "source.amazon-ebs.ubuntu-lts",
  ]
}
