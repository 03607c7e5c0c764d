//! The notifier runs on Lambda whatever machine built it (issue 12).
//!
//! - The embedded package, made by build.rs exactly as `cargo install` makes it (same build
//!   script, same nested `cargo zigbuild --profile notifier`), is a Linux x86-64 ELF needing no
//!   glibc newer than 2.34 — checked by the crate's own check and, independently, by
//!   `scripts/check-glibc.sh` (binutils' readelf/objdump).
//! - `up` refuses to deploy a binary Lambda cannot run (Mach-O, aarch64 for x86_64, GLIBC_2.38),
//!   exit 2, naming the problem, before any AWS call; `--arch arm64` without a prebuilt
//!   bootstrap is refused the same way.
//! - `--arch arm64` with an arm64 bootstrap declares `Architectures: [arm64]` to Lambda.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{CANARY, aws::sdk, elb_watch, run, spec, up};
use elb_watch::bundle::{self, Arch, check, pack};
use elb_watch_testkit::{emulator::Emulator, topology};

fn binary(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/binaries")
        .join(name)
}

/// The deployment package stays within its budget (issue 24: 3 MiB zipped), so a feature that
/// grows it past the budget is noticed here, not in a figure.
#[test]
fn the_embedded_notifier_zip_is_at_most_3_mib() {
    const BUDGET: usize = 3 * 1024 * 1024;
    let size = bundle::NOTIFIER_ZIP.len();
    assert!(
        size <= BUDGET,
        "the notifier's zip is {size} B, over the {BUDGET} B budget by {} B",
        size - BUDGET
    );
}

#[test]
fn the_embedded_notifier_is_a_linux_x86_64_elf_needing_at_most_glibc_2_34() {
    let (bootstrap, mode) = pack::unzip_bootstrap(bundle::NOTIFIER_ZIP).unwrap();
    assert_eq!(mode.map(|m| m & 0o777), Some(0o755));

    // The ELF header, read by hand: 64-bit, little-endian, System V/Linux ABI, x86-64.
    assert_eq!(&bootstrap[..4], b"\x7fELF");
    assert_eq!(bootstrap[4], 2, "ELFCLASS64");
    assert_eq!(bootstrap[5], 1, "ELFDATA2LSB");
    assert!(matches!(bootstrap[7], 0 | 3), "OS ABI {}", bootstrap[7]);
    let e_type = u16::from_le_bytes([bootstrap[16], bootstrap[17]]);
    assert!(matches!(e_type, 2 | 3), "ET_EXEC or ET_DYN, got {e_type}");
    let e_machine = u16::from_le_bytes([bootstrap[18], bootstrap[19]]);
    assert_eq!(e_machine, 62, "EM_X86_64");

    let verdict = check::check(&bootstrap, Arch::X86_64).unwrap();
    let glibc = verdict.glibc.expect("the notifier links glibc dynamically");
    assert!(glibc <= check::max_glibc(), "{glibc}");

    // Independently of the crate's parser: binutils on the same bytes.
    let dir = std::env::temp_dir().join(format!("elb-watch-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bootstrap");
    std::fs::write(&path, &bootstrap).unwrap();
    let script = elb_watch_testkit::repo_root().join("scripts/check-glibc.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&path)
        .arg("2.34")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("needs {glibc} at most")), "{text}");
    // And that script can fail: the GLIBC_2.38 fixture must.
    let out = Command::new("bash")
        .arg(&script)
        .arg(binary("x86_64-glibc2.38"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn up_refuses_a_bootstrap_lambda_cannot_run_before_any_aws_call() {
    let emu = Emulator::start().unwrap();
    emu.start_recording().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--notifier-bootstrap", "x86_64-macos"],
            "it is a Mach-O binary (macOS), not a Linux ELF executable",
        ),
        (
            &["--notifier-bootstrap", "aarch64-glibc2.34"],
            "it is a Linux aarch64 (arm64) binary but the function is declared x86_64",
        ),
        (
            &["--notifier-bootstrap", "x86_64-glibc2.38"],
            "it needs GLIBC_2.38, newer than the GLIBC_2.34 of Lambda's provided.al2023 runtime \
             (symbols: strlcpy@GLIBC_2.38)",
        ),
        (
            &[
                "--arch",
                "arm64",
                "--notifier-bootstrap",
                "x86_64-glibc2.34",
            ],
            "it is a Linux x86_64 binary but the function is declared arm64",
        ),
    ];
    for (args, expect) in cases {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                let p = binary(a);
                if p.exists() {
                    p.display().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let r = run(elb_watch(&emu)
            .args(["up", "--alb", "web-alb", "--slack-url", CANARY])
            .args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("refusing to deploy"), "{}", r.stderr);
        assert!(r.stderr.contains(expect), "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
    }
    let r = run(elb_watch(&emu).args([
        "up",
        "--alb",
        "web-alb",
        "--slack-url",
        CANARY,
        "--arch",
        "arm64",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--arch arm64 needs a prebuilt notifier")
            && r.stderr.contains("--notifier-bootstrap PATH"),
        "{}",
        r.stderr
    );
    let r = run(elb_watch(&emu).args(["up", "--alb", "web-alb", "--arch", "aarch64"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let calls = emu.stop_recording().unwrap();
    assert!(calls.is_empty(), "refused before any AWS call: {calls:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn arm64_with_a_prebuilt_bootstrap_is_declared_arm64_to_lambda() {
    let emu = Emulator::start().unwrap();
    topology::create(&emu, &spec()).unwrap();
    let arm = binary("aarch64-glibc2.34");
    let arm = arm.to_str().unwrap();
    let r = up(
        &emu,
        "graviton",
        CANARY,
        &["--arch", "arm64", "--notifier-bootstrap", arm],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let lambda = aws_sdk_lambda::Client::new(&sdk(&emu).await);
    let cfg = lambda
        .get_function_configuration()
        .function_name("elb-watch-graviton-notifier")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cfg.architectures(),
        &[aws_sdk_lambda::types::Architecture::Arm64]
    );
    let deployed = pack::zip_bootstrap(&std::fs::read(arm).unwrap());
    let sha = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        <sha2::Sha256 as sha2::Digest>::digest(&deployed),
    );
    assert_eq!(
        cfg.code_sha256(),
        Some(sha.as_str()),
        "the prebuilt bootstrap was deployed"
    );

    // `status` knows what `up` was asked for: in sync, not "code drifted".
    let s = run(elb_watch(&emu).args(["--env", "graviton", "--output", "json", "status"]));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    // The same inputs again: nothing to do.
    let again = up(
        &emu,
        "graviton",
        CANARY,
        &["--arch", "arm64", "--notifier-bootstrap", arm],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["in_sync"], true, "{}", again.stdout);
}
