# What kiln needs from this stack, named after the kiln.toml keys they go into
# (kiln.toml.example shows where). `terraform output -raw kiln_toml` prints the
# [deploy] and [verify] sections filled in.

output "asg_name" {
  description = "kiln.toml [deploy] asg: the group kiln deploy rolls AMIs out to."
  value       = aws_autoscaling_group.app.name
}

output "launch_template_id" {
  description = "kiln.toml [deploy] launch_template: the group's launch template, where kiln adds a version per deploy."
  value       = aws_launch_template.app.id
}

# No output of the template's latest version: it moves with every kiln deploy, so
# `terraform plan -detailed-exitcode` would report a change (exit 2) after each one
# with no resource changed. `kiln deploy --via terraform` reads the version the apply
# made from EC2 itself.

output "target_group_arn" {
  description = "kiln.toml [deploy] target_groups: where kiln deploy waits for replacements to be healthy."
  value       = aws_lb_target_group.app.arn
}

output "load_balancer_dns_name" {
  description = "The app's address (point a DNS record at it)."
  value       = aws_lb.main.dns_name
}

output "verify_subnet_id" {
  description = "kiln.toml [verify] subnet: a private subnet with NAT egress, where kiln verify launches."
  value       = aws_subnet.private[0].id
}

output "verify_security_group_id" {
  description = "kiln.toml [verify] security_groups: no ingress, HTTPS egress only."
  value       = aws_security_group.verify.id
}

output "verify_instance_profile_name" {
  description = "kiln.toml [verify] instance_profile: SSM managed-instance permissions only."
  value       = aws_iam_instance_profile.instance["verify"].name
}

output "bake_subnet_id" {
  description = "Packer's subnet_id for kiln bake (kiln.toml [bake] or --var subnet_id=…): a public subnet of this VPC, where the bake policy lets Packer launch."
  value       = aws_subnet.public[0].id
}

output "build_instance_profile_name" {
  description = "Packer's iam_instance_profile for kiln bake (SSM managed-instance permissions only)."
  value       = aws_iam_instance_profile.instance["build"].name
}

output "app_instance_profile_name" {
  description = "The instance profile in the launch template."
  value       = aws_iam_instance_profile.instance["app"].name
}

output "ci_role_arn" {
  description = "role-to-assume for aws-actions/configure-aws-credentials in the workflows that run kiln."
  value       = aws_iam_role.ci.arn
}

output "kiln_policy_arns" {
  description = "The least-privilege policy of each kiln stage (bake, verify, deploy, prune)."
  value       = { for stage, policy in aws_iam_policy.kiln : stage => policy.arn }
}

output "kiln_toml" {
  description = "The [deploy] and [verify] sections of kiln.toml for this stack."
  value       = <<-EOT
    [deploy]
    asg = "${aws_autoscaling_group.app.name}"
    launch_template = "${aws_launch_template.app.id}"
    target_groups = ["${aws_lb_target_group.app.arn}"]

    [verify]
    subnet = "${aws_subnet.private[0].id}"
    security_groups = ["${aws_security_group.verify.id}"]
    instance_profile = "${aws_iam_instance_profile.instance["verify"].name}"
  EOT
}
