# Test template: a bake that takes long enough to be interrupted while its
# temporary instance, key pair and security group exist.
source "amazon-ebs" "slow" {
  region        = var.kiln_region
  instance_type = "t3.micro"
  ami_name      = var.kiln_ami_name
  source_ami_filter {
    filters = {
      name = "ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"
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
}

build {
  sources = ["source.amazon-ebs.slow"]

  provisioner "shell-local" {
    inline = ["echo provisioning started", "sleep 60"]
  }
}
