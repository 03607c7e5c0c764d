//! `up --all-envs`, `plan --all-envs`, `status --all-envs`: every env of the environments file
//! in turn, each with its own table (region, profile, …), each reported as it would be alone,
//! then one summary line per env; the exit code is the worst of them (an env that fails does
//! not stop the others).

use super::file_config::Given;
use crate::cli::{Cli, Command, OutputFormat};
use crate::envfile::EnvFile;
use crate::exit;
use anyhow::{Result, bail};

/// Whether the command asks for every env.
pub fn asked(command: &Command) -> bool {
    match command {
        Command::Up(a) => a.all_envs,
        Command::Plan(a) => a.up.all_envs,
        Command::Status(a) => a.all_envs,
        _ => false,
    }
}

/// The same command for one env.
fn for_env(command: &Command) -> Command {
    match command {
        Command::Up(a) => Command::Up(a.clone()),
        Command::Plan(a) => Command::Plan(a.clone()),
        Command::Status(a) => Command::Status(a.clone()),
        _ => unreachable!("only up, plan and status take --all-envs"),
    }
}

/// One summary line (pure).
pub fn summary_line(env: &str, region: Option<&str>, code: u8, command: &Command) -> String {
    let outcome = match (code, command) {
        (exit::OK, Command::Status(_)) => "in sync",
        (exit::OK, Command::Plan(_)) => "planned",
        (exit::OK, _) => "up to date",
        (exit::DRIFT, Command::Plan(_)) => "changes to make",
        (exit::DRIFT, _) => "drift or missing pieces",
        _ => "error",
    };
    format!(
        "env {env} ({}): {outcome} (exit {code})",
        region.unwrap_or("default region")
    )
}

pub async fn run(cli: Cli, given: &Given, file: Option<EnvFile>) -> Result<u8> {
    let Some(file) = file else {
        bail!("--all-envs needs an environments file: ./elb-watch.toml, or give --file PATH");
    };
    if given.has("env") {
        bail!(
            "--all-envs runs every env of {}: leave out --env",
            file.path.display()
        );
    }
    let mut worst = exit::OK;
    let mut lines = Vec::new();
    for (name, env) in &file.envs {
        let mut one = Cli {
            global: cli.global.clone(),
            command: for_env(&cli.command),
        };
        one.global.env = name.clone();
        let code = match super::with_env(&mut one, env, given) {
            Ok(()) => match super::dispatch(&one.global, &one.command).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: env {name}: {e:#}");
                    exit::ERROR
                }
            },
            Err(e) => {
                eprintln!("error: env {name}: {e:#}");
                exit::ERROR
            }
        };
        worst = worst.max(code);
        lines.push(summary_line(
            name,
            one.global.region.as_deref(),
            code,
            &one.command,
        ));
    }
    let summary = lines.join("\n");
    match cli.global.output {
        // stdout stays one JSON document per env.
        OutputFormat::Json => eprintln!("{summary}"),
        OutputFormat::Table => println!("\n{summary}"),
        OutputFormat::Markdown => {
            println!("\n| env | outcome |\n|---|---|");
            for l in &lines {
                println!("| {} |", l.replacen(": ", " | ", 1));
            }
        }
    }
    Ok(worst)
}
