provider "aws" {
  region = var.region

  # Every resource carries the app's name under the tag key kiln reads (kiln:app).
  # The CI policies in ci.tf rely on it: kiln may only act on what is tagged for its app.
  default_tags {
    tags = merge(var.tags, {
      "kiln:app"         = var.app_name
      "kiln:environment" = var.environment
      "managed-by"       = "terraform"
    })
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

# The two zones, by name: an explicit list, so the subnets never move when AWS adds a
# zone, and a lookup that fails at plan time when one is not available to the account.
data "aws_availability_zones" "selected" {
  state = "available"
  filter {
    name   = "zone-name"
    values = local.az_names
  }
}

locals {
  # Resource names: the app and its environment, so that staging and production of one
  # app can live in the same account.
  name       = "${var.app_name}-${var.environment}"
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  az_names   = length(var.availability_zones) > 0 ? var.availability_zones : ["${var.region}a", "${var.region}b"]
  azs        = sort(data.aws_availability_zones.selected.names)
}
