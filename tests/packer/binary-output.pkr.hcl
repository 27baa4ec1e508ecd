# Test template: a base whose build prints bytes that are not UTF-8 (as remote
# provisioner output can); kiln must read on and publish the AMI.
build {
  source "source.amazon-ebs.ubuntu" {
    name = "base"
  }

  provisioner "shell-local" {
    inline = ["printf 'caf\\351 \\377\\376 latin-1\\n'"]
  }
}
