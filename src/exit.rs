//! Exit codes, the contract with CI jobs.

/// 0: success (`status`: everything present and in sync).
pub const OK: u8 = 0;
/// 1: `status` found drift or missing pieces.
pub const DRIFT: u8 = 1;
/// 2: an error (bad input, AWS refused, unreachable, not implemented).
pub const ERROR: u8 = 2;
