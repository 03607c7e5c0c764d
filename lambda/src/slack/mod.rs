//! Stage 4, delivery to Slack: the incoming webhook, or the Web API in app mode with one
//! thread per incident (the plan, where the thread is kept, and the runner of the plan).

pub mod answer;
pub mod app;
pub mod incident;
pub mod thread_store;
pub mod web_api;
pub mod webhook;
