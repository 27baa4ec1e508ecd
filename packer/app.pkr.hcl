# The application image: built on the base that `kiln bake app` resolved from the
# registry (var.kiln_source_ami, never an id passed through a file) and provisioned
# by ansible/app.yml. Works with Packer 1.6.6 (HCL2, no required_plugins block).

variable "kiln_app" {
  type        = string
  description = "The application the image belongs to (set by kiln)."
}

variable "kiln_region" {
  type        = string
  description = "The region to bake in (set by kiln)."
}

variable "kiln_source_ami" {
  type        = string
  description = "The base AMI, resolved from the registry (set by kiln)."
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

source "amazon-ebs" "app" {
  region        = var.kiln_region
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  ami_name      = var.kiln_ami_name
  source_ami    = var.kiln_source_ami

  communicator                = "ssh"
  ssh_username                = "ubuntu"
  ssh_timeout                 = "10m"
  ssh_interface               = "public_ip"
  associate_public_ip_address = true

  # The base's root volume is encrypted; keep the copy encrypted too.
  encrypt_boot = true

  custom_endpoint_ec2 = var.kiln_ec2_endpoint

  run_tags = {
    Name      = "packer ${var.kiln_app} app"
    kiln-bake = var.kiln_app
  }
  tags = {
    Name    = var.kiln_ami_name
    git-sha = var.kiln_git_sha
  }
  snapshot_tags = {
    Name = var.kiln_ami_name
  }
}

build {
  sources = ["source.amazon-ebs.app"]

  provisioner "ansible" {
    playbook_file    = "${path.root}/../ansible/app.yml"
    user             = "ubuntu"
    ansible_env_vars = ["ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg"]
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
