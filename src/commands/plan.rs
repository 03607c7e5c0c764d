//! `elb-watch plan`: `up --dry-run` under its own name, with `--detailed-exitcode` telling
//! "no changes" (0) from "changes" (1) for CI, as `terraform plan -detailed-exitcode` does
//! (2 stays an error).

use crate::cli::{GlobalOpts, PlanArgs};
use crate::{exit, output};
use anyhow::Result;

pub async fn run(global: &GlobalOpts, args: &PlanArgs) -> Result<u8> {
    let mut up = args.up.clone();
    up.dry_run = true;
    let report = super::up::report(global, &up).await?;
    output::print_up(global.output, &report)?;
    Ok(exit_code(args.detailed_exitcode, report.in_sync))
}

/// The exit code of a plan (pure).
pub fn exit_code(detailed: bool, in_sync: bool) -> u8 {
    if detailed && !in_sync {
        exit::DRIFT
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_detailed_plan_with_changes_exits_1() {
        assert_eq!(exit_code(true, false), 1);
        assert_eq!(exit_code(true, true), 0);
        assert_eq!(exit_code(false, false), 0);
    }
}
