# Test template: the app image, built on the base kiln resolved from the registry.
source "amazon-ebs" "app" {
  region                     = var.kiln_region
  instance_type              = "t3.micro"
  ami_name                   = var.kiln_ami_name
  source_ami                 = var.kiln_source_ami
  communicator               = "none"
  custom_endpoint_ec2        = var.kiln_ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
  run_tags = {
    kiln-test-app = var.kiln_app
  }
  tags = {
    Name         = var.kiln_ami_name
    source-ami   = var.kiln_source_ami
    built-by-sha = var.kiln_git_sha
  }
}

build {
  sources = ["source.amazon-ebs.app"]
}
