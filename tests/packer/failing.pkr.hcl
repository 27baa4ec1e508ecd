# Test template: Packer fails (the source AMI does not exist).
source "amazon-ebs" "failing" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = var.kiln_ami_name
  source_ami_filter {
    filters = {
      name = "no-such-image-*"
    }
    owners = ["self"]
  }
  communicator               = "none"
  custom_endpoint_ec2        = var.kiln_ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
}

build {
  sources = ["source.amazon-ebs.failing"]
}
