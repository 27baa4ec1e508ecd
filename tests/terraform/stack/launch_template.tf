locals {
  name = "${var.app}-web${lookup(var.workspace_suffix, terraform.workspace, "")}"
}

resource "aws_launch_template" "web" {
  name                   = local.name
  image_id               = var.image_id
  instance_type          = var.instance_type
  update_default_version = true

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name = local.name
    }
  }
}
