# The hardened base image: an official Ubuntu LTS, provisioned by ansible/base.yml.
# `kiln bake base` runs it and hands its context in as PKR_VAR_kiln_* variables;
# variables it does not declare are ignored. Works with Packer 1.6.6 (HCL2, no
# required_plugins block).

variable "kiln_app" {
  type        = string
  description = "The application the image belongs to (set by kiln)."
}

variable "kiln_region" {
  type        = string
  description = "The region to bake in (set by kiln)."
}

variable "kiln_ami_name" {
  type        = string
  description = "A unique, sortable AMI name (set by kiln)."
}

variable "kiln_git_sha" {
  type        = string
  default     = ""
  description = "The commit being built, when kiln runs in CI."
}

variable "kiln_ec2_endpoint" {
  type        = string
  default     = ""
  description = "An EC2 endpoint override (set by kiln for a local emulator)."
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Bake in this subnet (empty: the default VPC)."
}

variable "ubuntu_release" {
  type        = string
  default     = "jammy-22.04"
  description = "Ubuntu LTS to start from, as in the official image names."
}

variable "volume_size_gb" {
  type    = number
  default = 8
}

source "amazon-ebs" "base" {
  region        = var.kiln_region
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  ami_name      = var.kiln_ami_name

  # The newest official Ubuntu LTS image, published by Canonical.
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-${var.ubuntu_release}-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"]
    most_recent = true
  }

  communicator                = "ssh"
  ssh_username                = "ubuntu"
  ssh_timeout                 = "10m"
  ssh_interface               = "public_ip"
  associate_public_ip_address = true

  # An encrypted root volume (the account's default EBS key unless kms_key_id is set).
  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.volume_size_gb
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }
  encrypt_boot = true

  custom_endpoint_ec2 = var.kiln_ec2_endpoint

  run_tags = {
    Name      = "packer ${var.kiln_app} base"
    kiln-bake = var.kiln_app
  }
  tags = {
    Name    = var.kiln_ami_name
    os      = "ubuntu-${var.ubuntu_release}"
    git-sha = var.kiln_git_sha
  }
  snapshot_tags = {
    Name = var.kiln_ami_name
  }
}

build {
  sources = ["source.amazon-ebs.base"]

  provisioner "ansible" {
    playbook_file    = "${path.root}/../ansible/base.yml"
    user             = "ubuntu"
    ansible_env_vars = ["ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg"]
    # The agents are downloaded from the bake region's buckets.
    extra_arguments = ["--extra-vars", "base_aws_region=${var.kiln_region}"]
  }

  # Leave no host keys or logs of the bake in the image.
  provisioner "shell" {
    inline = [
      "sudo rm -f /etc/ssh/ssh_host_*",
      "sudo truncate -s 0 /etc/machine-id",
      "sudo cloud-init clean --logs",
    ]
  }
}
