# The application's launch template and Auto Scaling Group, and the instance profiles
# and security groups of the three kinds of instance this stack knows:
#   app     the group's instances, serving behind the load balancer;
#   verify  the throwaway instance `kiln verify` launches to run Goss over SSM;
#   build   the instance Packer launches during `kiln bake` (iam_instance_profile).
# All three are reached through SSM (AmazonSSMManagedInstanceCore), never by SSH keys.

# ---------------------------------------------------------------------------------------
# Instance roles and profiles
# ---------------------------------------------------------------------------------------

locals {
  instance_roles = {
    app    = "${local.name}: the application's instances"
    verify = "${local.name}: kiln verify's throwaway instances"
    build  = "${local.name}: Packer's build instances (kiln bake)"
  }
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  for_each = local.instance_roles

  name               = "${local.name}-${each.key}"
  description        = each.value
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy_attachment" "instance_ssm" {
  for_each = local.instance_roles

  role       = aws_iam_role.instance[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy_attachment" "app_extra" {
  for_each = toset(var.app_role_policy_arns)

  role       = aws_iam_role.instance["app"].name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "instance" {
  for_each = local.instance_roles

  name = "${local.name}-${each.key}"
  role = aws_iam_role.instance[each.key].name
}

# ---------------------------------------------------------------------------------------
# Security groups
# ---------------------------------------------------------------------------------------

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "${local.name} instances: the app port from the load balancer, HTTPS out"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-app" }
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  #checkov:skip=CKV_AWS_260:False positive: the source is the load balancer's security group (referenced_security_group_id), which this check does not read; no CIDR is opened.
  security_group_id            = aws_security_group.app.id
  description                  = "The app port from the load balancer (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS out through the NAT gateway: SSM, S3, CloudWatch and other AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# kiln verify's instance: nothing comes in (Goss runs on the instance and is sent over
# SSM Run Command, which the agent polls for); only HTTPS goes out, to reach SSM.
resource "aws_security_group" "verify" {
  #checkov:skip=CKV2_AWS_5:Attached by kiln verify at launch (RunInstances with this group id from kiln.toml [verify]), not by a Terraform resource.
  name        = "${local.name}-verify"
  description = "kiln verify instances of ${local.name}: no ingress, HTTPS out to SSM"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-verify" }
}

resource "aws_vpc_security_group_egress_rule" "verify_https" {
  security_group_id = aws_security_group.verify.id
  description       = "HTTPS out through the NAT gateway: the SSM agent's channel and S3"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# ---------------------------------------------------------------------------------------
# Launch template and Auto Scaling Group
# ---------------------------------------------------------------------------------------

# Terraform creates version 1 with var.ami_id. From then on `kiln deploy` creates a new
# numbered version for every rollout, pinning the concrete AMI id and copying every
# other setting from the version the group runs, and points the group at it (never
# $Latest, $Default or resolve:ssm:, see DESIGN §3). The group's version is ignored
# below, so Terraform never moves the group back.
#
# The AWS provider reads the template's latest version, which after a deploy is kiln's:
# plan with the AMI that runs, `-var ami_id=$(kiln resolve app:production)`, and the
# template shows no change. Applied with another ami_id, Terraform only adds a version
# the group does not use. A change made in this file (say the instance type) likewise
# becomes a new version the group does not run yet: roll it out with
# `kiln deploy --via terraform` (terraform apply -var ami_id=<the AMI>, then kiln points
# the group at the new version and waits for it), which is also how kiln deploys when
# Terraform should own every launch template version.
resource "aws_launch_template" "app" {
  name                   = local.name
  description            = "${local.name}: from Terraform"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance["app"].arn
  }

  vpc_security_group_ids = [aws_security_group.app.id]

  # IMDSv2 only, and not reachable from containers one hop further.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  # The root volume of the Ubuntu images the reference templates bake (/dev/sda1),
  # encrypted. Another OS may name its root device differently: check the AMI's
  # RootDeviceName.
  block_device_mappings {
    device_name = "/dev/sda1"
    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = local.name }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = local.name }
  }

  tags = { Name = local.name }

  lifecycle {
    # kiln writes its own version descriptions (what it deployed, from which run), and
    # the provider reads the description of the newest version, which after a deploy is
    # kiln's. Ignored, so a plan after a deploy shows no change; the price: a version
    # Terraform makes later (`kiln deploy --via terraform`) carries that description of
    # kiln's previous version, naming its AMI. Descriptions are for people only: kiln
    # never reads them (a resumed deploy goes by the group's kiln:rollout-version and
    # kiln:rollback-version tags and the image the version pins). A version's AMI is
    # its ImageId.
    ignore_changes = [description]
  }
}

# Strategies: `rolling` and `instance-refresh` work on this group in place. `blue-green`
# makes a new group from the same launch template and then scales this one to zero or
# deletes it, which Terraform would undo on its next apply: with this stack, prefer the
# in-place strategies (or import the new group after a blue-green deploy).
resource "aws_autoscaling_group" "app" {
  name                = local.name
  vpc_zone_identifier = aws_subnet.private[*].id
  target_group_arns   = [aws_lb_target_group.app.arn]

  min_size         = var.asg_min_size
  max_size         = var.asg_max_size
  desired_capacity = var.asg_desired_capacity

  # Replace instances the load balancer finds unhealthy, not only those EC2 finds dead.
  health_check_type         = "ELB"
  health_check_grace_period = var.health_check_grace_period
  default_instance_warmup   = 60
  wait_for_capacity_timeout = "15m"
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  # No instance_refresh block: kiln starts, watches and rolls back refreshes itself.

  tag {
    key                 = "Name"
    value               = local.name
    propagate_at_launch = true
  }

  tag {
    key                 = "kiln:app"
    value               = var.app_name
    propagate_at_launch = true
  }

  tag {
    key                 = "kiln:environment"
    value               = var.environment
    propagate_at_launch = true
  }

  lifecycle {
    # kiln owns the version and the capacity: deploy points the group at a new launch
    # template version, scaling (kiln's batches, scaling policies, people) moves the
    # desired capacity. And the group's tags: the `tag` blocks above would own every tag
    # of the group, so an apply would strip the ones kiln puts on it while it deploys
    # (kiln:deploy-lock, which `kiln deploy --via terraform` holds during its own apply,
    # and kiln:rollout-version / kiln:rollback-version, which a resumed deploy reads).
    # The three tags above are set when the group is created; all three follow from
    # app_name and environment, which also name the group, so a change to them makes a
    # new group anyway. Ignoring these is what lets `terraform apply` and `kiln deploy`
    # never fight.
    ignore_changes = [launch_template[0].version, desired_capacity, tag]
  }
}
