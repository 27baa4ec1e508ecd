provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Service     = var.app
      Environment = terraform.workspace
    }
  }
}
