//! One module per subcommand; each returns the process exit code.

pub mod down;
pub mod mute;
pub mod policy;
pub mod replay;
pub mod status;
pub mod test;
pub mod up;

use crate::aws::{self, Clients};
use crate::cli::{Cli, Command, GlobalOpts};
use anyhow::Result;

pub async fn run(cli: Cli) -> Result<u8> {
    match &cli.command {
        Command::Up(args) => up::run(&cli.global, args).await,
        Command::Status(args) => status::run(&cli.global, args).await,
        Command::Down(args) => down::run(&cli.global, args).await,
        Command::Test(args) => test::run(&cli.global, args).await,
        Command::Mute(args) => mute::run_mute(&cli.global, args).await,
        Command::Unmute(args) => mute::run_unmute(&cli.global, args).await,
        Command::Replay(args) => replay::run(&cli.global, args).await,
        Command::Policy(args) => policy::run(args),
    }
}

/// SDK configuration and clients for a command.
pub async fn connect(global: &GlobalOpts) -> Result<Clients> {
    let sdk = aws::config::load(global).await?;
    Ok(Clients::new(&sdk))
}
