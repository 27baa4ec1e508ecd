# Test template: like base.pkr.hcl, but Packer itself copies the AMI to eu-west-1.
build {
  source "source.amazon-ebs.ubuntu" {
    name        = "base"
    ami_regions = ["eu-west-1"]
  }
}
