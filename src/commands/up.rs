use crate::cli::{GlobalOpts, UpArgs};
use anyhow::{Result, bail};

pub async fn run(_global: &GlobalOpts, _args: &UpArgs) -> Result<u8> {
    bail!("`up` is not implemented yet")
}
