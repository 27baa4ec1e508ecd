# Test template: a base image in the emulator (the shared Ubuntu source).
build {
  source "source.amazon-ebs.ubuntu" {
    name = "base"
  }
}
