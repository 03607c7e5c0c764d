//! Load balancers, target groups and EC2 instances created in an [`Emulator`], through
//! `scripts/topology.py` (boto3 from the emulator's venv: no EC2 SDK to compile).

use crate::emulator::Emulator;
use anyhow::{Context, Result, ensure};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// What `create` made.
#[derive(Debug, Clone)]
pub struct Topology {
    pub instances: Vec<String>,
    /// name → ARN
    pub target_groups: BTreeMap<String, String>,
    /// name → ARN
    pub load_balancers: BTreeMap<String, String>,
}

fn python() -> std::path::PathBuf {
    let moto = crate::emulator::moto_server_path();
    moto.with_file_name("python")
}

fn script(emu: &Emulator) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(crate::repo_root().join("scripts/topology.py"))
        // Straight to moto: seeding and stand-ins for CloudWatch are not what the strict layer
        // is about, and must not be throttled or delayed by it.
        .args(["--endpoint", &emu.moto_url()]);
    cmd
}

fn names(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Create the topology described by `spec` (see `scripts/topology.py` for its shape).
pub fn create(emu: &Emulator, spec: &Value) -> Result<Topology> {
    create_in(emu, crate::emulator::REGION, spec)
}

/// [`create`] in another region of the emulator.
pub fn create_in(emu: &Emulator, region: &str, spec: &Value) -> Result<Topology> {
    let mut child = script(emu)
        .args(["--region", region])
        .arg("create")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run scripts/topology.py")?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(spec.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    ensure!(
        out.status.success(),
        "topology.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: Value = serde_json::from_slice(&out.stdout)?;
    Ok(Topology {
        instances: made["instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        target_groups: names(&made["target_groups"]),
        load_balancers: names(&made["load_balancers"]),
    })
}

/// Run a `topology.py` subcommand; its stdout as JSON (`null` when it prints nothing).
fn query(emu: &Emulator, args: &[&str]) -> Result<Value> {
    let out = script(emu).args(args).output()?;
    ensure!(
        out.status.success(),
        "topology.py {} failed: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&text)?)
}

/// Stop or start an instance; a stopped instance's targets turn unhealthy in the emulator.
pub fn set_instance_running(emu: &Emulator, instance_id: &str, running: bool) -> Result<()> {
    let state = if running { "running" } else { "stopped" };
    query(emu, &["instance", instance_id, state]).map(drop)
}

/// Stand in for CloudWatch evaluating an alarm: `SetAlarmState`, then the Lambda event SNS would
/// deliver for that change, in the exact format CloudWatch publishes. CloudWatch also records
/// the change in the alarm's history: the strict layer, when on, is told (strict rule 11).
pub fn alarm_event(emu: &Emulator, alarm: &str, state: &str, reason: &str) -> Result<Value> {
    let event = query(emu, &["alarm-event", alarm, state, reason])?;
    if let Some(strict) = emu.strict() {
        strict.record_state_change(state_change(&event)?);
    }
    Ok(event)
}

/// SetAlarmState on each alarm, straight on moto (unthrottled, no event, no history): for tests
/// that only need alarms in a state before they read it.
pub fn set_alarm_states(
    emu: &Emulator,
    alarms: &[String],
    state: &str,
    reason: &str,
) -> Result<()> {
    let mut args = vec!["set-states", state, reason];
    args.extend(alarms.iter().map(String::as_str));
    query(emu, &args).map(drop)
}

/// The state change an [`alarm_event`] event carries.
fn state_change(event: &Value) -> Result<crate::strict::history::StateChange> {
    let raw = event["Records"][0]["Sns"]["Message"]
        .as_str()
        .context("no Message in the alarm event")?;
    let m: Value = serde_json::from_str(raw)?;
    let text = |k: &str| m[k].as_str().unwrap_or_default().to_string();
    let at = text("StateChangeTime");
    Ok(crate::strict::history::StateChange {
        region: text("AlarmArn")
            .split(':')
            .nth(3)
            .context("no region in AlarmArn")?
            .to_string(),
        alarm: text("AlarmName"),
        old_state: text("OldStateValue"),
        old_reason: String::new(),
        new_state: text("NewStateValue"),
        new_reason: text("NewStateReason"),
        at_ms: crate::strict::history::epoch_ms(&at)
            .with_context(|| format!("unreadable StateChangeTime {at:?}"))?,
    })
}

/// A deployed function's environment variables.
pub fn function_env(emu: &Emulator, function: &str) -> Result<BTreeMap<String, String>> {
    Ok(names(&query(emu, &["function-env", function])?))
}

/// The seed's topology: one ALB (`web-alb`) with one target group (`web-tg`) and one instance.
pub fn seed_spec() -> Value {
    serde_json::json!({
        "instances": 1,
        "target_groups": [{"name": "web-tg", "protocol": "HTTP", "port": 80, "targets": [0]}],
        "load_balancers": [{"name": "web-alb", "type": "application",
                            "listeners": [{"port": 80, "protocol": "HTTP", "default": ["web-tg"]}]}]
    })
}

/// A fleet: ALBs `alb-0`…`alb-{albs-1}`, each with one listener whose default action and
/// path rules reach its `tgs_per_alb` target groups `a{ALB}-tg{N}`, one instance registered in
/// each. 20 × 10 is the scale `up`/`status`/`down` are held to (200 alarms).
pub fn fleet(albs: usize, tgs_per_alb: usize) -> Value {
    let mut groups = Vec::new();
    let mut lbs = Vec::new();
    for a in 0..albs {
        let names: Vec<String> = (0..tgs_per_alb).map(|t| format!("a{a}-tg{t}")).collect();
        groups.extend(
            names
                .iter()
                .map(|n| serde_json::json!({"name": n, "targets": [0]})),
        );
        let rules: Vec<Value> = names[1..]
            .iter()
            .enumerate()
            .map(|(i, n)| serde_json::json!({"path": format!("/r{i}/*"), "forward": [n]}))
            .collect();
        lbs.push(
            serde_json::json!({"name": format!("alb-{a}"), "listeners": [
                {"port": 80, "default": [names[0]], "rules": rules}
            ]}),
        );
    }
    serde_json::json!({"instances": 1, "target_groups": groups, "load_balancers": lbs})
}

/// `--alb alb-0 … --alb alb-{albs-1}` for a [`fleet`].
pub fn fleet_alb_args(albs: usize) -> Vec<String> {
    (0..albs)
        .flat_map(|a| ["--alb".to_string(), format!("alb-{a}")])
        .collect()
}
