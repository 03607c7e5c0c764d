//! Fault injection for the convergence tests: with `ELB_WATCH_FAULT_AFTER=<step label>`, the
//! process exits abruptly right after that step succeeds, as if it had been killed there.

/// Exit code of an injected fault (distinct from the documented 0/1/2).
pub const EXIT_CODE: i32 = 86;

pub fn checkpoint(step: &str) {
    if std::env::var("ELB_WATCH_FAULT_AFTER").is_ok_and(|s| s == step) {
        eprintln!("elb-watch: fault injected after step '{step}'");
        std::process::exit(EXIT_CODE);
    }
}
