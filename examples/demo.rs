//! The local demo: `cargo run --example demo` (after `scripts/emulator.sh setup`; or run
//! `scripts/demo.sh`, which does both). See `testkit/src/demo.rs` for what it shows.

use elb_watch_testkit::demo::{self, Binaries};
use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let bins = match elb_watch_testkit::bins::package_binary("elb-watch") {
        Ok(elb_watch) => Binaries {
            elb_watch,
            bootstrap: PathBuf::from(env!("ELB_WATCH_NOTIFIER_BOOTSTRAP_PATH")),
        },
        Err(e) => {
            eprintln!("demo: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        result = demo::run(&bins) => match result {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => {
            // Dropping the demo stops the emulator, the notifier and the sink.
            eprintln!("demo: interrupted; stopping everything it started");
            ExitCode::from(130)
        }
    }
}
