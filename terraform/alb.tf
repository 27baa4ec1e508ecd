# The application load balancer in the public subnets, its listeners, and the target
# group the Auto Scaling Group registers into. The target group's health check is the
# one that counts: the ASG uses it (health_check_type = "ELB"), and kiln deploy waits
# for every replacement to be healthy in it before the next batch.

locals {
  https = var.certificate_arn != null
}

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "${local.name} load balancer: HTTP and HTTPS in, the app port out to the instances"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${local.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:A public web entry point: port 80 is open to ingress_cidr_blocks so that browsers reach the redirect to HTTPS (or, without a certificate, the app itself).
  for_each = toset(var.ingress_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = local.https ? toset(var.ingress_cidr_blocks) : toset([])

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_app" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the app's instances on the app port (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_lb" "main" {
  #checkov:skip=CKV2_AWS_20:The redirect exists whenever HTTPS does: with certificate_arn set, aws_lb_listener.http_redirect answers port 80 with a 301 to 443; without one there is no HTTPS to redirect to (see http_forward).
  #checkov:skip=CKV2_AWS_28:WAF is a per-organisation choice (managed rule groups, logging, cost); associate a WebACL with aws_wafv2_web_acl_association outside this reference stack.
  name               = local.name
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id

  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_deletion_protection = var.alb_deletion_protection

  dynamic "access_logs" {
    for_each = var.alb_access_logs_bucket == null ? [] : [var.alb_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = local.name
      enabled = true
    }
  }

  tags = { Name = local.name }
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the instances sit in private subnets and accept the app port from the load balancer's security group only.
  name                 = local.name
  vpc_id               = aws_vpc.main.id
  target_type          = "instance"
  protocol             = "HTTP"
  port                 = var.app_port
  deregistration_delay = 30

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = local.name }
}

# With a certificate: HTTPS serves the app, HTTP answers with a redirect to it.
resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_lb_listener" "http_redirect" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

# Without a certificate: HTTP serves the app directly.
resource "aws_lb_listener" "http_forward" {
  #checkov:skip=CKV_AWS_2:Only exists while certificate_arn is null (a first try without a domain); setting certificate_arn replaces it with the HTTPS listener and an HTTP-to-HTTPS redirect.
  #checkov:skip=CKV_AWS_103:Same listener: plain HTTP has no TLS policy; the HTTPS listener uses var.ssl_policy (TLS 1.3/1.2).
  count = local.https ? 0 : 1

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}
