# The build: a local script (runs with communicator "none"), then Packer's
# manifest post-processor, which rewrites manifest.json in this directory on
# every run.
build {
  name    = "base"
  sources = ["source.amazon-ebs.ubuntu"]

  provisioner "shell-local" {
    script = "${path.root}/scripts/record.sh"
  }

  post-processor "manifest" {
    output     = "${path.root}/manifest.json"
    strip_path = true
  }
}
