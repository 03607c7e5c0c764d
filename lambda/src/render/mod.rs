//! Stage 3, rendering: the Slack message (Block Kit in a coloured attachment, with a text
//! fallback) and its marks (late, found at set-up), the thread parent's later versions, and
//! the escaping that keeps outside text inert and within Slack's limits. Pure.

pub mod blocks;
pub mod escaping;
pub mod late;
pub mod message;
pub mod thread;
