use crate::cli::{DownArgs, GlobalOpts};
use anyhow::{Result, bail};

pub async fn run(_global: &GlobalOpts, _args: &DownArgs) -> Result<u8> {
    bail!("`down` is not implemented yet")
}
