//! Shared helpers for the integration tests: run the real `elb-watch` binary against an emulator.
#![allow(dead_code)]

use elb_watch_testkit::emulator::Emulator;
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// `elb-watch` with a clean environment pointed at the emulator.
pub fn elb_watch(emu: &Emulator) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_elb-watch"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("ELB_WATCH_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(emu.aws_env())
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("elb-watch runs").into()
}
pub mod aws;
