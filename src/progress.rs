//! Progress of long steps on stderr: spinners on a terminal, plain lines otherwise (CI logs).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
    timings: Arc<Mutex<Vec<StepTiming>>>,
}

/// How long a finished step took, for reports and benchmarks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StepTiming {
    pub step: String,
    pub ms: u128,
}

pub struct Step {
    label: String,
    bar: Option<ProgressBar>,
    started: Instant,
    timings: Arc<Mutex<Vec<StepTiming>>>,
}

impl Progress {
    /// Spinners when stderr is a terminal and `plain` is not asked for.
    pub fn new(plain: bool) -> Self {
        let fancy = !plain && std::io::stderr().is_terminal();
        Progress {
            multi: fancy.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            timings: Arc::default(),
        }
    }

    /// The steps finished so far, in the order they finished.
    pub fn timings(&self) -> Vec<StepTiming> {
        self.timings.lock().expect("timings poisoned").clone()
    }

    /// A line of text, above the spinners if any.
    pub fn note(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    pub fn start(&self, label: &str) -> Step {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                    .expect("valid template"),
            );
            bar.set_message(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Step {
            label: label.to_string(),
            bar,
            started: Instant::now(),
            timings: self.timings.clone(),
        }
    }
}

impl Step {
    pub fn done(self, outcome: &str) {
        let ms = self.started.elapsed().as_millis();
        self.timings
            .lock()
            .expect("timings poisoned")
            .push(StepTiming {
                step: self.label.clone(),
                ms,
            });
        match self.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::with_template("✓ {msg}").expect("valid template"));
                bar.finish_with_message(format!("{}: {outcome} ({ms} ms)", self.label));
            }
            None => eprintln!("  ✓ {}: {outcome} ({ms} ms)", self.label),
        }
    }

    pub fn failed(self, why: &str) {
        match self.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::with_template("✗ {msg}").expect("valid template"));
                bar.finish_with_message(format!("{}: failed: {why}", self.label));
            }
            None => eprintln!("  ✗ {}: failed: {why}", self.label),
        }
    }
}
