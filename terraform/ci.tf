# The CI role GitHub Actions assumes through OIDC, and one least-privilege policy per kiln
# stage. Each policy allows exactly the actions listed for its stage in kiln-actions.json
# (scripts/check-terraform compares the two; a Rust test compares that file with the
# calls kiln makes), scoped by resource ARN and by tag wherever IAM supports it. Actions
# that IAM cannot scope (Describe*, Get*Invocation) have their own statements on "*".
#
# The image registry's SSM parameters are NOT managed here: kiln creates them on the
# first `kiln bake`, adds a version per image and moves the channel labels. Terraform
# managing them too would fight kiln over every value and label. The policies only scope
# kiln to <parameter_prefix>/<app>/*.
#
# What the scoping relies on, all of which the reference setup gives:
#   - kiln tags its AMIs kiln:app=<app> (prune, revoke, verify and deploy act only on those);
#   - kiln tags its verify instances kiln:purpose=verify and kiln:app=<app> at launch;
#   - Packer's build instance carries run_tags kiln-bake=<app> (packer/*.pkr.hcl);
#   - Packer bakes in this VPC (subnet_id = the bake_subnet_id output);
#   - blue-green groups are named after the group they replace (<asg>…) and carry its
#     kiln:app tag.

locals {
  ssm_parameter_arns = [
    "arn:${local.partition}:ssm:*:${local.account_id}:parameter${var.parameter_prefix}/${var.app_name}/*",
  ]
  # GetParametersByPath is authorised on the path itself.
  ssm_path_arns = [
    "arn:${local.partition}:ssm:*:${local.account_id}:parameter${var.parameter_prefix}/${var.app_name}",
  ]

  # Image and snapshot ARNs carry no account: an account can only change its own.
  image_arns    = "arn:${local.partition}:ec2:*::image/*"
  snapshot_arns = "arn:${local.partition}:ec2:*::snapshot/*"

  instance_arns = "arn:${local.partition}:ec2:*:${local.account_id}:instance/*"
  volume_arns   = "arn:${local.partition}:ec2:*:${local.account_id}:volume/*"
  eni_arns      = "arn:${local.partition}:ec2:*:${local.account_id}:network-interface/*"
  sg_arns       = "arn:${local.partition}:ec2:*:${local.account_id}:security-group/*"
  subnet_arns   = "arn:${local.partition}:ec2:*:${local.account_id}:subnet/*"
  key_pair_arns = "arn:${local.partition}:ec2:*:${local.account_id}:key-pair/*"

  vpc_arn             = aws_vpc.main.arn
  launch_template_arn = aws_launch_template.app.arn
  # The stack's group and any blue-green group named after it.
  asg_arns = "arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.name}*"

  github_oidc_url = "token.actions.githubusercontent.com"
  github_subjects = concat(
    [for ref in var.github_allowed_refs : "repo:${var.github_repository}:ref:${ref}"],
    [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"],
  )
}

# ---------------------------------------------------------------------------------------
# bake: Packer's amazon-ebs builder, then kiln's tags, region copies and registry version
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kiln_bake" {
  statement {
    sid = "DescribeUnscopable"
    actions = [
      "ec2:DescribeImages",
      "ec2:DescribeInstances",
      "ec2:DescribeRegions",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSnapshots",
      "ec2:DescribeSubnets",
      "ec2:DescribeVolumes",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }

  # Packer's build instance must be tagged for this app at launch (run_tags).
  statement {
    sid       = "PackerLaunchTaggedBuildInstance"
    actions   = ["ec2:RunInstances"]
    resources = [local.instance_arns]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kiln-bake"
      values   = [var.app_name]
    }
  }

  # ... from an official source image (base) or one of this account's (app on base) ...
  statement {
    sid       = "PackerLaunchFromTrustedImages"
    actions   = ["ec2:RunInstances"]
    resources = [local.image_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:Owner"
      values   = concat([local.account_id], var.source_image_owners)
    }
  }

  # ... into this stack's VPC ...
  statement {
    sid       = "PackerLaunchIntoStackVpc"
    actions   = ["ec2:RunInstances"]
    resources = [local.subnet_arns, local.eni_arns, local.sg_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  # ... with its root volume and Packer's temporary key pair.
  statement {
    sid       = "PackerLaunchVolumesAndKeyPair"
    actions   = ["ec2:RunInstances"]
    resources = [local.volume_arns, local.key_pair_arns]
  }

  statement {
    sid       = "PackerTagOnCreate"
    actions   = ["ec2:CreateTags"]
    resources = [local.instance_arns, local.volume_arns, local.sg_arns, local.key_pair_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances", "CreateSecurityGroup", "CreateKeyPair"]
    }
  }

  statement {
    sid = "PackerDriveBuildInstance"
    actions = [
      "ec2:CreateImage",
      "ec2:GetPasswordData",
      "ec2:StopInstances",
      "ec2:TerminateInstances",
    ]
    resources = [local.instance_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln-bake"
      values   = [var.app_name]
    }
  }

  statement {
    sid       = "PackerTemporaryKeyPair"
    actions   = ["ec2:CreateKeyPair", "ec2:DeleteKeyPair"]
    resources = [local.key_pair_arns]
  }

  statement {
    sid       = "PackerCreateTemporarySecurityGroup"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = [local.vpc_arn, local.sg_arns]
  }

  statement {
    sid       = "PackerUseTemporarySecurityGroup"
    actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"]
    resources = [local.sg_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  # New images and their snapshots: Packer's CreateImage (and RegisterImage, CreateSnapshot
  # for other builders' steps), kiln's copies to the extra regions, and the tags both put
  # on them. An image has no kiln:app tag before kiln tags it, so these go by ARN.
  statement {
    sid = "CreateCopyAndTagImages"
    actions = [
      "ec2:CopyImage",
      "ec2:CreateImage",
      "ec2:CreateSnapshot",
      "ec2:CreateTags",
      "ec2:RegisterImage",
    ]
    resources = [local.image_arns, local.snapshot_arns]
  }

  statement {
    sid       = "SnapshotSourceVolumes"
    actions   = ["ec2:CreateSnapshot"]
    resources = [local.volume_arns]
  }

  # Packer sets image attributes (description, sharing) and removes the intermediate
  # image and snapshot of an encrypted copy, or a same-named image with force_deregister.
  statement {
    sid = "PackerFinishImages"
    actions = [
      "ec2:DeleteSnapshot",
      "ec2:DeregisterImage",
      "ec2:ModifyImageAttribute",
    ]
    resources = [local.image_arns, local.snapshot_arns]
  }

  statement {
    sid       = "PassBuildInstanceRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.instance["build"].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  # Packer checks that iam_instance_profile exists before launching.
  statement {
    sid       = "ReadBuildInstanceProfile"
    actions   = ["iam:GetInstanceProfile"]
    resources = [aws_iam_instance_profile.instance["build"].arn]
  }

  # Publish: a new registry version per image; PutParameter with DataType aws:ec2:image
  # also needs ec2:DescribeImages (above) for SSM's validation of the AMI id.
  statement {
    sid = "Registry"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:LabelParameterVersion",
      "ssm:PutParameter",
    ]
    resources = local.ssm_parameter_arns
  }
}

# ---------------------------------------------------------------------------------------
# verify: one throwaway instance, Goss over SSM Run Command, the tested label
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kiln_verify" {
  statement {
    sid = "DescribeUnscopable"
    actions = [
      "ec2:DescribeImages",
      "ec2:DescribeInstances",
      "ssm:DescribeInstanceInformation",
      "ssm:GetCommandInvocation",
    ]
    resources = ["*"]
  }

  # The instance and its volume must be tagged as this app's verify instance at launch.
  statement {
    sid       = "LaunchTaggedVerifyInstance"
    actions   = ["ec2:RunInstances"]
    resources = [local.instance_arns, local.volume_arns]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kiln:purpose"
      values   = ["verify"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # Only this app's images.
  statement {
    sid       = "LaunchFromAppImages"
    actions   = ["ec2:RunInstances"]
    resources = [local.image_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # Only into the private subnets, with the verify security group.
  statement {
    sid       = "LaunchIntoVerifyNetwork"
    actions   = ["ec2:RunInstances"]
    resources = concat(aws_subnet.private[*].arn, [aws_security_group.verify.arn])
  }

  statement {
    sid       = "LaunchNetworkInterfaceInStackVpc"
    actions   = ["ec2:RunInstances"]
    resources = [local.eni_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  statement {
    sid       = "TagOnLaunch"
    actions   = ["ec2:CreateTags"]
    resources = [local.instance_arns, local.volume_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  # Teardown (and `kiln verify --cleanup`) ends this app's verify instances, nothing else.
  statement {
    sid       = "TerminateVerifyInstances"
    actions   = ["ec2:TerminateInstances"]
    resources = [local.instance_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln:purpose"
      values   = ["verify"]
    }
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  statement {
    sid       = "PassVerifyInstanceRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.instance["verify"].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  # Run Command: the AWS-owned shell document ...
  statement {
    sid       = "RunShellScriptDocument"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:${local.partition}:ssm:*::document/AWS-RunShellScript"]
  }

  # ... on this app's verify instances only (SSM reads the instance's EC2 tags).
  statement {
    sid       = "RunOnVerifyInstances"
    actions   = ["ssm:SendCommand"]
    resources = [local.instance_arns]
    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/kiln:purpose"
      values   = ["verify"]
    }
    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  statement {
    sid = "Registry"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:LabelParameterVersion",
    ]
    resources = local.ssm_parameter_arns
  }
}

# ---------------------------------------------------------------------------------------
# deploy (and rollback): launch template versions, the group, its target group
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kiln_deploy" {
  statement {
    sid = "DescribeUnscopable"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeInstanceRefreshes",
      "ec2:DescribeImages",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:DescribeLaunchTemplates",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "NewLaunchTemplateVersions"
    actions   = ["ec2:CreateLaunchTemplateVersion"]
    resources = [local.launch_template_arn]
  }

  # The group and blue-green groups named after it, while they carry this app's tag.
  statement {
    sid = "DriveAppGroups"
    actions = [
      "autoscaling:CancelInstanceRefresh",
      "autoscaling:CreateOrUpdateTags",
      "autoscaling:DeleteAutoScalingGroup",
      "autoscaling:DeleteTags",
      "autoscaling:RollbackInstanceRefresh",
      "autoscaling:SetDesiredCapacity",
      "autoscaling:StartInstanceRefresh",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
      "autoscaling:UpdateAutoScalingGroup",
    ]
    resources = [local.asg_arns]
    condition {
      test     = "StringEquals"
      variable = "autoscaling:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # blue-green: a new group, tagged for this app as it is created (its tags are
  # authorised as CreateOrUpdateTags).
  statement {
    sid       = "CreateAppGroups"
    actions   = ["autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"]
    resources = [local.asg_arns]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # blue-green: move this stack's target group between this app's groups.
  statement {
    sid = "ShiftTargetGroup"
    actions = [
      "autoscaling:AttachLoadBalancerTargetGroups",
      "autoscaling:DetachLoadBalancerTargetGroups",
    ]
    resources = [local.asg_arns]
    condition {
      test     = "StringEquals"
      variable = "autoscaling:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "autoscaling:TargetGroupARNs"
      values   = [aws_lb_target_group.app.arn]
    }
  }

  # Creating or updating a group with a launch template checks that the caller could
  # launch from it: ec2:RunInstances on the template, and on everything it launches only
  # through this template.
  statement {
    sid       = "LaunchFromAppTemplate"
    actions   = ["ec2:RunInstances"]
    resources = [local.launch_template_arn]
  }

  statement {
    sid     = "LaunchOnlyThroughAppTemplate"
    actions = ["ec2:RunInstances"]
    resources = [
      local.instance_arns,
      local.volume_arns,
      local.eni_arns,
      local.sg_arns,
      local.subnet_arns,
      local.image_arns,
    ]
    condition {
      test     = "ArnLike"
      variable = "ec2:LaunchTemplate"
      values   = [local.launch_template_arn]
    }
  }

  statement {
    sid       = "TagOnLaunch"
    actions   = ["ec2:CreateTags"]
    resources = [local.instance_arns, local.volume_arns, local.eni_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  statement {
    sid       = "TagAppImages"
    actions   = ["ec2:CreateTags"]
    resources = [local.image_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # The launch template's instance profile, passed on by the group.
  statement {
    sid       = "PassAppInstanceRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.instance["app"].arn]
  }

  statement {
    sid = "Registry"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:LabelParameterVersion",
    ]
    resources = local.ssm_parameter_arns
  }

  # The deploy ledger: one parameter per environment whose versions are the deploy
  # records (written when a deploy or rollback starts and ends, tier
  # Intelligent-Tiering: advanced only once a record passes 4 KB); rollback and
  # `kiln history --deploys` read its history.
  statement {
    sid = "DeployLedger"
    actions = [
      "ssm:GetParameterHistory",
      "ssm:PutParameter",
    ]
    resources = [
      "arn:${local.partition}:ssm:*:${local.account_id}:parameter${var.parameter_prefix}/${var.app_name}/ledger/*",
    ]
  }

  # The deploy lock: a parameter created without overwrite (one of two racing
  # deploys wins) and deleted when the deploy ends.
  statement {
    sid = "DeployLock"
    actions = [
      "ssm:DeleteParameter",
      "ssm:PutParameter",
    ]
    resources = [
      "arn:${local.partition}:ssm:*:${local.account_id}:parameter${var.parameter_prefix}/${var.app_name}/deploy-lock/*",
    ]
  }
}

# ---------------------------------------------------------------------------------------
# prune (and revoke): delete, deprecate and tag this app's images
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kiln_prune" {
  statement {
    sid = "DescribeUnscopable"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeLaunchConfigurations",
      "ec2:DescribeImages",
      "ec2:DescribeInstances",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:DescribeLaunchTemplates",
      "ec2:DescribeSnapshots",
    ]
    resources = ["*"]
  }

  statement {
    sid = "RetireAppImages"
    actions = [
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:DeregisterImage",
      "ec2:DisableImageDeprecation",
      "ec2:EnableImageDeprecation",
    ]
    resources = [local.image_arns]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/kiln:app"
      values   = [var.app_name]
    }
  }

  # Snapshots are not tagged kiln:app by the reference templates, so this goes by ARN:
  # kiln deletes only the snapshots of images it has just deregistered, and EC2 refuses
  # to delete a snapshot any image still uses. Tag snapshots kiln:app (Packer's
  # snapshot_tags) and add an ec2:ResourceTag/kiln:app condition here to narrow it.
  statement {
    sid       = "DeleteSnapshotsOfDeregisteredImages"
    actions   = ["ec2:DeleteSnapshot"]
    resources = [local.snapshot_arns]
  }

  statement {
    sid = "Registry"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:GetParametersByPath",
      "ssm:LabelParameterVersion",
      "ssm:UnlabelParameterVersion",
    ]
    resources = concat(local.ssm_parameter_arns, local.ssm_path_arns)
  }
}

# ---------------------------------------------------------------------------------------
# The policies and the role
# ---------------------------------------------------------------------------------------

locals {
  kiln_stage_policies = {
    bake   = data.aws_iam_policy_document.kiln_bake.json
    verify = data.aws_iam_policy_document.kiln_verify.json
    deploy = data.aws_iam_policy_document.kiln_deploy.json
    prune  = data.aws_iam_policy_document.kiln_prune.json
  }
}

resource "aws_iam_policy" "kiln" {
  for_each = local.kiln_stage_policies

  name        = "${local.name}-kiln-${each.key}"
  description = "kiln ${each.key} for ${local.name}: the AWS actions of that stage only"
  policy      = each.value
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.github_oidc_url}"
  client_id_list = ["sts.amazonaws.com"]
  # IAM no longer checks these for GitHub's provider; older provider versions require them.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = "https://${local.github_oidc_url}"
}

locals {
  # Exactly one of the two exists.
  github_oidc_provider_arn = one(concat(
    aws_iam_openid_connect_provider.github[*].arn,
    data.aws_iam_openid_connect_provider.github[*].arn,
  ))
}

# Only workflow runs of var.github_repository on the allowed refs or in the allowed
# environments, and only with the audience the official configure-aws-credentials
# action asks for.
data "aws_iam_policy_document" "ci_assume" {
  statement {
    sid     = "GitHubActionsOidc"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "${local.github_oidc_url}:sub"
      values   = local.github_subjects
    }
  }
}

resource "aws_iam_role" "ci" {
  name                 = "${local.name}-kiln-ci"
  description          = "kiln in GitHub Actions for ${var.github_repository}: bake, verify, deploy, prune ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.ci_assume.json
  max_session_duration = var.ci_max_session_duration

  lifecycle {
    precondition {
      condition     = length(local.github_subjects) > 0
      error_message = "Set github_allowed_refs or github_environments: otherwise no workflow may assume the CI role."
    }
  }
}

# One role with the four stage policies. To give each stage its own role (say, deploy
# only from the production environment), copy aws_iam_role.ci per stage with its own
# subjects and attach one policy to each.
resource "aws_iam_role_policy_attachment" "ci" {
  for_each = aws_iam_policy.kiln

  role       = aws_iam_role.ci.name
  policy_arn = each.value.arn
}
