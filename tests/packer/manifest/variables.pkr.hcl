# Test template directory, split the way many repositories split one: variables,
# sources, the build. kiln's context arrives as PKR_VAR_kiln_*.
variable "kiln_app" {
  type = string
}

variable "kiln_region" {
  type = string
}

variable "kiln_ami_name" {
  type = string
}

variable "kiln_ec2_endpoint" {
  type    = string
  default = ""
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}
