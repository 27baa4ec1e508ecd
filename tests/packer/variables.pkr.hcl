# The variables kiln hands every bake (as PKR_VAR_kiln_*). Templates declare the
# ones they use; Packer ignores the others.
variable "kiln_app" {
  type = string
}

variable "kiln_role" {
  type = string
}

variable "kiln_region" {
  type = string
}

variable "kiln_source_ami" {
  type    = string
  default = ""
}

variable "kiln_ami_name" {
  type = string
}

variable "kiln_git_sha" {
  type    = string
  default = ""
}

variable "kiln_ec2_endpoint" {
  type    = string
  default = ""
}
