# Test template: a fixed AMI name, the same for every bake.
source "amazon-ebs" "golden" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = "${var.kiln_app}-golden"
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

build {
  sources = ["source.amazon-ebs.golden"]
}
