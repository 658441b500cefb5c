//! AutoML-Zero's islands spread over worker processes (on any number of machines) through
//! Redis, with the result of the same config and seed run in one process.
//!
//! A search with K islands advances in rounds of `migrate_every` individuals per island. The
//! submitting `search` ([`coordinator::Coordinator`]) posts each experiment's islands to Redis
//! and plays the experiment protocol; workers ([`worker::serve`]) lease an island's next round
//! whose inputs are there (its state after its last round, its neighbour's migrants), run it
//! with the engine's [`automl_zero_engine::rounds::IslandRunner`] and store the result under a
//! fencing token. The coordinator settles every round exactly as one process would
//! ([`automl_zero_engine::rounds::drive`]). Keys: [`keys::Keys`]; values: [`codec`].

pub mod codec;
pub mod coordinator;
pub mod keys;
pub mod protocol;
pub mod status;
pub mod store;
pub mod worker;

/// What goes wrong talking to Redis or reading from it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached or refused us.
    #[error("Redis at {url}: {message}")]
    Connect {
        /// The URL, its password hidden.
        url: String,
        /// What happened, with what to do.
        message: String,
    },
    /// A command failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A value read from Redis is not what it should be.
    #[error("key {key}: {message}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Anything else (a run that cannot go on, say).
    #[error("{0}")]
    Other(String),
}

/// This crate's results.
pub type Result<T> = std::result::Result<T, Error>;

/// An error about the value of `key`.
pub(crate) fn bad(key: &str, message: impl std::fmt::Display) -> Error {
    Error::Value {
        key: key.to_string(),
        message: message.to_string(),
    }
}
