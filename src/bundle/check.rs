//! Can Lambda run this `bootstrap`? Pure: the binary's bytes in, a verdict out.
//!
//! Lambda's OS-only runtime `provided.al2023` runs the executable `bootstrap` of the deployment
//! package on Amazon Linux 2023, whose glibc is 2.34, on the instruction set declared in the
//! function's `Architectures` (x86_64 or arm64):
//! - <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html>
//! - <https://docs.aws.amazon.com/linux/al2023/release-notes/all-packages-AL2023.html> (glibc 2.34)
//! - <https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html>
//!
//! A binary fails there, on every invocation, when it is not a Linux ELF executable (e.g. a
//! Mach-O built by `cargo install` on a Mac), when its machine is not the declared architecture,
//! or when it needs a glibc symbol version newer than 2.34 (the dynamic loader refuses to start
//! it: "version `GLIBC_2.38' not found").
//!
//! This file is also compiled into `build.rs` (`#[path]`), so it depends on `object` and std only.

use std::fmt;

use object::elf;
use object::read::elf::{FileHeader, Sym};
use object::{Endianness, FileKind};

/// The two instruction set architectures Lambda offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    /// The value of Lambda's `Architectures` (and of `--arch`).
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    pub fn from_lambda_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.lambda_name() == name)
    }

    /// The Rust target that builds a `bootstrap` for it.
    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    fn elf_machine(self) -> elf::Machine {
        match self {
            Arch::X86_64 => elf::EM_X86_64,
            Arch::Arm64 => elf::EM_AARCH64,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// A `GLIBC_x.y[.z]` symbol version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion(pub Vec<u32>);

impl GlibcVersion {
    /// From a version name such as `GLIBC_2.2.5`; `None` for other names (`GLIBC_PRIVATE`, …).
    pub fn parse(name: &str) -> Option<GlibcVersion> {
        let numbers = name.strip_prefix("GLIBC_")?;
        let parts = numbers
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u32>>>()?;
        (!parts.is_empty()).then_some(GlibcVersion(parts))
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        write!(f, "GLIBC_{}", parts.join("."))
    }
}

/// The glibc of `provided.al2023` (Amazon Linux 2023 ships glibc 2.34).
pub fn max_glibc() -> GlibcVersion {
    GlibcVersion(vec![2, 34])
}

/// What a binary that passed needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub arch: Arch,
    /// The highest `GLIBC_` version it needs; `None` when it needs none (static, musl).
    pub glibc: Option<GlibcVersion>,
}

/// Why Lambda could not run a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not an ELF file: its format as recognised (Mach-O, PE, …).
    NotElf(String),
    /// An ELF file Lambda's Linux cannot run as `bootstrap` (32-bit, big-endian, not an
    /// executable, another OS's ABI).
    NotLinuxExecutable(String),
    WrongMachine {
        found: String,
        expected: Arch,
    },
    GlibcTooNew {
        needed: GlibcVersion,
        max: GlibcVersion,
        /// A few dynamic symbols that need a version newer than `max`.
        symbols: Vec<String>,
    },
    Malformed(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotElf(kind) => write!(
                f,
                "it is {kind}, not a Linux ELF executable (was it built for the build machine \
                 instead of Lambda's Linux?)"
            ),
            Problem::NotLinuxExecutable(why) => {
                write!(f, "it is not a Linux executable Lambda can run: {why}")
            }
            Problem::WrongMachine { found, expected } => write!(
                f,
                "it is a Linux {found} binary but the function is declared {expected} \
                 (Lambda would fail to start it)"
            ),
            Problem::GlibcTooNew {
                needed,
                max,
                symbols,
            } => {
                write!(
                    f,
                    "it needs {needed}, newer than the {max} of Lambda's provided.al2023 runtime"
                )?;
                if !symbols.is_empty() {
                    write!(f, " (symbols: {})", symbols.join(", "))?;
                }
                Ok(())
            }
            Problem::Malformed(why) => write!(f, "it is not a well-formed ELF file: {why}"),
        }
    }
}

impl std::error::Error for Problem {}

fn machine_name(machine: elf::Machine) -> String {
    match machine {
        elf::EM_X86_64 => "x86_64".into(),
        elf::EM_AARCH64 => "aarch64 (arm64)".into(),
        elf::EM_386 => "i386".into(),
        elf::EM_ARM => "32-bit ARM".into(),
        elf::EM_RISCV => "RISC-V".into(),
        elf::EM_PPC64 => "ppc64".into(),
        elf::EM_S390 => "s390x".into(),
        other => format!("e_machine {}", other.0),
    }
}

fn format_name(kind: FileKind) -> String {
    match kind {
        FileKind::MachO32 | FileKind::MachO64 => "a Mach-O binary (macOS)".into(),
        FileKind::MachOFat32 | FileKind::MachOFat64 => "a universal Mach-O binary (macOS)".into(),
        FileKind::Pe32 | FileKind::Pe64 => "a PE binary (Windows)".into(),
        FileKind::Coff | FileKind::CoffBig => "a COFF object (Windows)".into(),
        FileKind::Archive => "an ar archive".into(),
        other => format!("a {other:?} file"),
    }
}

/// Checks that Lambda can run `binary` as the `bootstrap` of a function declared `arch` on
/// `provided.al2023`.
pub fn check(binary: &[u8], arch: Arch) -> Result<Verdict, Problem> {
    let malformed = |e: object::Error| Problem::Malformed(e.to_string());
    let kind = FileKind::parse(binary)
        .map_err(|_| Problem::NotElf("not an executable format this check knows".into()))?;
    match kind {
        FileKind::Elf64 => {}
        FileKind::Elf32 => {
            return Err(Problem::NotLinuxExecutable(
                "it is a 32-bit ELF file".into(),
            ));
        }
        other => return Err(Problem::NotElf(format_name(other))),
    }
    let header = elf::FileHeader64::<Endianness>::parse(binary).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    if endian != Endianness::Little {
        return Err(Problem::NotLinuxExecutable("it is big-endian".into()));
    }
    let os_abi = header.e_ident().os_abi;
    if os_abi != elf::ELFOSABI_NONE && os_abi != elf::ELFOSABI_GNU {
        return Err(Problem::NotLinuxExecutable(format!(
            "its ELF OS ABI is {os_abi}, not System V / Linux"
        )));
    }
    let e_type = header.e_type(endian);
    if e_type != elf::ET_EXEC && e_type != elf::ET_DYN {
        return Err(Problem::NotLinuxExecutable(format!(
            "its ELF type is {e_type}, not an executable"
        )));
    }
    let machine = header.e_machine(endian);
    if machine != arch.elf_machine() {
        return Err(Problem::WrongMachine {
            found: machine_name(machine),
            expected: arch,
        });
    }
    let glibc = highest_glibc(header, endian, binary)?;
    let max = max_glibc();
    if let Some(needed) = &glibc
        && *needed > max
    {
        return Err(Problem::GlibcTooNew {
            needed: needed.clone(),
            symbols: symbols_newer_than(header, endian, binary, &max).unwrap_or_default(),
            max,
        });
    }
    Ok(Verdict { arch, glibc })
}

/// The highest `GLIBC_` version in the version references (`.gnu.version_r`), which list every
/// version the dynamic loader will require.
fn highest_glibc(
    header: &elf::FileHeader64<Endianness>,
    endian: Endianness,
    data: &[u8],
) -> Result<Option<GlibcVersion>, Problem> {
    let malformed = |e: object::Error| Problem::Malformed(e.to_string());
    let sections = header.sections(endian, data).map_err(malformed)?;
    let mut highest: Option<GlibcVersion> = None;
    let Some((mut needs, link)) = sections.gnu_verneed(endian, data).map_err(malformed)? else {
        return Ok(None);
    };
    let strings = sections.strings(endian, data, link).map_err(malformed)?;
    while let Some((_need, mut auxes)) = needs.next().map_err(malformed)? {
        while let Some(aux) = auxes.next().map_err(malformed)? {
            let name = aux.name(endian, strings).map_err(malformed)?;
            if let Some(v) = std::str::from_utf8(name).ok().and_then(GlibcVersion::parse)
                && highest.as_ref().is_none_or(|h| v > *h)
            {
                highest = Some(v);
            }
        }
    }
    Ok(highest)
}

/// Up to five dynamic symbols bound to a `GLIBC_` version newer than `max` (for the message).
fn symbols_newer_than(
    header: &elf::FileHeader64<Endianness>,
    endian: Endianness,
    data: &[u8],
    max: &GlibcVersion,
) -> Result<Vec<String>, object::Error> {
    let sections = header.sections(endian, data)?;
    let symbols = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    let versions = sections.versions(endian, data)?;
    let Some(versions) = versions else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (index, symbol) in symbols.enumerate() {
        let Some(version) = versions.version(versions.version_index(endian, index).into())? else {
            continue;
        };
        let newer = std::str::from_utf8(version.name())
            .ok()
            .and_then(GlibcVersion::parse)
            .is_some_and(|v| v > *max);
        if newer {
            let name = String::from_utf8_lossy(symbol.name(endian, symbols.strings())?);
            out.push(format!(
                "{name}@{}",
                String::from_utf8_lossy(version.name())
            ));
            if out.len() == 5 {
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions_order_numerically() {
        let v = |s| GlibcVersion::parse(s).unwrap();
        assert!(v("GLIBC_2.2.5") < v("GLIBC_2.17"));
        assert!(v("GLIBC_2.34") < v("GLIBC_2.38"));
        assert!(v("GLIBC_2.34") == max_glibc());
        assert_eq!(GlibcVersion::parse("GLIBC_PRIVATE"), None);
        assert_eq!(GlibcVersion::parse("GCC_3.0"), None);
        assert_eq!(v("GLIBC_2.2.5").to_string(), "GLIBC_2.2.5");
    }

    #[test]
    fn arch_names_round_trip() {
        for a in Arch::ALL {
            assert_eq!(Arch::from_lambda_name(a.lambda_name()), Some(a));
        }
        assert_eq!(Arch::from_lambda_name("aarch64"), None);
    }

    // Tiny real binaries made by zig (tests/binaries/make.sh).
    const X86_64_GLIBC_2_34: &[u8] = include_bytes!("../../tests/binaries/x86_64-glibc2.34");
    const X86_64_GLIBC_2_38: &[u8] = include_bytes!("../../tests/binaries/x86_64-glibc2.38");
    const AARCH64: &[u8] = include_bytes!("../../tests/binaries/aarch64-glibc2.34");
    const MACHO: &[u8] = include_bytes!("../../tests/binaries/x86_64-macos");

    #[test]
    fn a_linux_x86_64_binary_needing_glibc_2_34_runs_on_x86_64() {
        let v = check(X86_64_GLIBC_2_34, Arch::X86_64).unwrap();
        assert_eq!(v.glibc, GlibcVersion::parse("GLIBC_2.34"));
        assert_eq!(v.arch, Arch::X86_64);
    }

    #[test]
    fn a_mach_o_is_refused() {
        let p = check(MACHO, Arch::X86_64).unwrap_err();
        assert!(matches!(p, Problem::NotElf(_)), "{p:?}");
        assert!(p.to_string().contains("Mach-O"), "{p}");
    }

    #[test]
    fn an_aarch64_elf_is_refused_for_x86_64_and_accepted_for_arm64() {
        let p = check(AARCH64, Arch::X86_64).unwrap_err();
        assert!(
            matches!(
                &p,
                Problem::WrongMachine {
                    expected: Arch::X86_64,
                    ..
                }
            ),
            "{p:?}"
        );
        assert!(p.to_string().contains("aarch64"), "{p}");
        assert!(check(AARCH64, Arch::Arm64).is_ok());
        let p = check(X86_64_GLIBC_2_34, Arch::Arm64).unwrap_err();
        assert!(p.to_string().contains("x86_64"), "{p}");
    }

    #[test]
    fn a_binary_needing_glibc_2_38_is_refused_naming_the_symbol() {
        let p = check(X86_64_GLIBC_2_38, Arch::X86_64).unwrap_err();
        match &p {
            Problem::GlibcTooNew {
                needed, symbols, ..
            } => {
                assert_eq!(needed.to_string(), "GLIBC_2.38");
                assert_eq!(symbols, &["strlcpy@GLIBC_2.38".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(p.to_string().contains("GLIBC_2.38"), "{p}");
        assert!(p.to_string().contains("GLIBC_2.34"), "{p}");
    }

    #[test]
    fn garbage_and_truncated_input_are_refused_not_panicking() {
        assert!(matches!(check(b"", Arch::X86_64), Err(Problem::NotElf(_))));
        assert!(matches!(
            check(b"#!/bin/sh\necho hi\n", Arch::X86_64),
            Err(Problem::NotElf(_))
        ));
        let mut truncated = b"\x7fELF\x02\x01\x01".to_vec();
        truncated.resize(40, 0);
        assert!(check(&truncated, Arch::X86_64).is_err());
    }
}
