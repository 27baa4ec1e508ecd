# Test template: a bake that takes long enough to be interrupted while its
# temporary instance, key pair and security group exist.
build {
  source "source.amazon-ebs.ubuntu" {
    name = "slow"
  }

  provisioner "shell-local" {
    inline = ["echo provisioning started", "sleep 60"]
  }
}
