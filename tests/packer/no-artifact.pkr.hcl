# Test template: Packer succeeds but makes no AMI (the null builder).
source "null" "none" {
  communicator = "none"
}

build {
  sources = ["source.null.none"]
}
