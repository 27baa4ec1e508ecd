# Test template: a build that prints a secret variable, which kiln must not show.
variable "api_token" {
  type = string
}

build {
  source "source.amazon-ebs.ubuntu" {
    name = "secret"
  }

  provisioner "shell-local" {
    inline = ["echo using token ${var.api_token}"]
  }
}
