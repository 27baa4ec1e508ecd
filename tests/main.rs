//! kiln's integration tests: one binary, the real `kiln` executable, and one AWS
//! emulator (moto, started on first use) for the whole run. See harness/.

mod harness;

mod action;
// First after `action` by name: libtest starts tests in name order, and this one
// (real Terraform, ~4 minutes) then runs beside the others instead of after them.
mod apply_reference_stack;
mod bake;
mod bake_source;
mod bake_templates;
mod ci_files;
mod ci_output;
mod cli_extras;
mod config_file;
mod demo;
mod deploy;
mod deploy_cloudformation;
mod deploy_github;
mod deploy_shapes;
mod deploy_terraform;
mod dry_run;
mod environments;
mod errors;
mod faults;
mod github;
mod hardening;
mod hcl;
mod limits;
mod permissions;
mod pipelines;
mod profiles;
mod proxies;
mod prune;
mod registry;
mod revoke;
mod status;
mod verify;
mod verify_live;
