//! Stage 4, delivery to Slack: the HTTP layer and retry loop every call runs on, the incoming webhook, or the Web API in app mode with one
//! thread per incident (where the incident's state is kept, and the runner of its plan).

pub mod answer;
pub mod app;
pub mod http;
pub mod thread_store;
pub mod uploads;
pub mod web_api;
pub mod webhook;
