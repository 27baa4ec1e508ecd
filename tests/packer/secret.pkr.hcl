# Test template: a build that prints a secret variable, which kiln must not show.
variable "api_token" {
  type = string
}

source "amazon-ebs" "secret" {
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
}

build {
  sources = ["source.amazon-ebs.secret"]

  provisioner "shell-local" {
    inline = ["echo using token ${var.api_token}"]
  }
}
