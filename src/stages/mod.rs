//! One module per command. Each runs on its typed settings (`config::settings`), reads
//! through the registry, sends changes through the effect gate and returns an `Outcome`.

pub mod bake;
pub mod deploy;
pub mod deploys;
pub mod history;
pub mod promote;
pub mod prune;
pub mod publish;
pub mod resolve;
pub mod revoke;
pub mod status;
pub mod verify;
