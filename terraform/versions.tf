# The reference stack for kiln: the network, load balancer and Auto Scaling Group an
# application's AMIs are deployed to, the instance profiles and security group that
# `kiln bake` and `kiln verify` launch with, and the CI role with one least-privilege
# policy per kiln stage. See README.md in this directory for adopting it.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # Remote state, configured at init time so that nothing account-specific lives here:
  #   terraform init -backend-config=backend.hcl
  # with backend.hcl made from backend.hcl.example (bucket, key, region, locking).
  backend "s3" {}
}
