# Test template: a base whose build prints bytes that are not UTF-8 (as remote
# provisioner output can); kiln must read on and publish the AMI.
# (an official Ubuntu source found by filter), without a machine to provision:
# communicator "none", EC2 calls sent to the emulator.
source "amazon-ebs" "base" {
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

build {
  sources = ["source.amazon-ebs.base"]

  provisioner "shell-local" {
    inline = ["printf 'caf\\351 \\377\\376 latin-1\\n'"]
  }
}
