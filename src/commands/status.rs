//! `elb-watch status`: for now, what discovery finds for `--alb`.

use super::connect;
use crate::cli::{GlobalOpts, StatusArgs};
use crate::{discovery, exit, output};
use anyhow::{Result, bail};

pub async fn run(global: &GlobalOpts, args: &StatusArgs) -> Result<u8> {
    if args.albs.is_empty() {
        bail!("`status` without --alb is not implemented yet: pass --alb NAME");
    }
    let clients = connect(global).await?;
    let found = discovery::discover(&clients, &args.albs).await?;
    output::print(global.output, &found, output::discovery_table(&found))?;
    Ok(exit::OK)
}
