//! What each command reports: plain data that `commands/` fills and `output/` renders as a table
//! or JSON. Below both, so data flows one way (commands → report → output).

pub mod down;
pub mod mute;
pub mod status;
pub mod test;
pub mod up;

pub use down::DownReport;
pub use mute::{MuteReport, MuteRuleLine, UnmuteReport};
pub use status::{AlbReport, AlbTargetGroup, MuteStatus, RecordedSettings, StatusReport};
pub use test::TestReport;
pub use up::UpReport;
