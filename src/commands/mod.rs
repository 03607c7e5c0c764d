//! One module per subcommand; each returns the process exit code. `run` first reads the
//! environments file, if any (`file_config`), and fills in what the flags left unsaid.

pub mod all_envs;
pub mod down;
pub mod file_config;
pub mod mute;
pub mod plan;
pub mod policy;
pub mod replay;
pub mod status;
pub mod test;
pub mod up;

use crate::aws::{self, Clients};
use crate::cli::{Cli, Command, GlobalOpts};
use anyhow::Result;
use file_config::Given;

pub async fn run(mut cli: Cli, given: Given) -> Result<u8> {
    match &cli.command {
        Command::Policy(args) => return policy::run(args),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::envfile::json_schema())?
            );
            return Ok(crate::exit::OK);
        }
        Command::Completions(args) => {
            use clap::CommandFactory;
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "elb-watch",
                &mut std::io::stdout(),
            );
            return Ok(crate::exit::OK);
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(crate::exit::OK);
        }
        _ => {}
    }
    let file = file_config::locate(&cli.global)?;
    if all_envs::asked(&cli.command) {
        return all_envs::run(cli, &given, file).await;
    }
    if let Some(file) = &file
        && let Some(env) = file_config::env_of(file, &cli.global)?
    {
        let env = env.clone();
        with_env(&mut cli, &env, &given)?;
    }
    dispatch(&cli.global, &cli.command).await
}

/// The env's table of the environments file applied to the command line.
pub(crate) fn with_env(
    cli: &mut Cli,
    env: &crate::envfile::EnvConfig,
    given: &Given,
) -> Result<()> {
    file_config::merge_global(&mut cli.global, env, given);
    match &mut cli.command {
        Command::Up(args) => file_config::merge_up(args, env, given),
        Command::Plan(args) => file_config::merge_up(&mut args.up, env, given),
        Command::Status(args) => {
            args.file_env = Some(Box::new(env.clone()));
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(crate) async fn dispatch(global: &GlobalOpts, command: &Command) -> Result<u8> {
    match command {
        Command::Up(args) => up::run(global, args).await,
        Command::Plan(args) => plan::run(global, args).await,
        Command::Status(args) => status::run(global, args).await,
        Command::Down(args) => down::run(global, args).await,
        Command::Test(args) => test::run(global, args).await,
        Command::Mute(args) => mute::run_mute(global, args).await,
        Command::Unmute(args) => mute::run_unmute(global, args).await,
        Command::Replay(args) => replay::run(global, args).await,
        Command::Policy(args) => policy::run(args),
        Command::Schema | Command::Completions(_) | Command::Man => Ok(crate::exit::OK),
    }
}

/// SDK configuration and clients for a command.
pub async fn connect(global: &GlobalOpts) -> Result<Clients> {
    let sdk = aws::config::load(global).await?;
    Ok(Clients::new(&sdk))
}
