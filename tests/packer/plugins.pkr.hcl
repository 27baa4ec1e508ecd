# Test template: a modern template's plugin requirements (Packer >= 1.7 and
# `packer init`), which Debian's Packer 1.6.6 cannot read.
packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.8"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

build {
  sources = ["source.amazon-ebs.ubuntu"]
}
