//! kiln's integration tests: one binary, the real `kiln` executable, and one AWS
//! emulator (moto, started on first use) for the whole run. See harness/.

mod harness;

mod bake;
mod config_file;
mod demo;
mod deploy;
mod deploy_github;
mod deploy_terraform;
mod dry_run;
mod errors;
mod github;
mod hcl;
mod limits;
mod permissions;
mod registry;
mod verify;
mod verify_live;
