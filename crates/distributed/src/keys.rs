//! Redis keys: every run's keys start with `automl-zero:{RUN}:` (the braces keep a run's keys
//! in one Redis Cluster slot, so that its scripts may touch several).

/// The set of the runs submitted to a server.
pub const RUNS: &str = "automl-zero:runs";

/// The keys of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    run: String,
    prefix: String,
}

/// Whether a run name is acceptable: 1 to 100 letters, digits, `.`, `_` or `-`.
pub fn check_run_name(run: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if run.is_empty() || run.len() > 100 || !run.chars().all(ok) {
        return Err(format!(
            "run name {run:?}: use 1 to 100 letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(())
}

impl Keys {
    /// The keys of run `run` (a checked name).
    pub fn new(run: &str) -> Result<Keys, String> {
        check_run_name(run)?;
        Ok(Keys {
            run: run.to_string(),
            prefix: format!("automl-zero:{{{run}}}"),
        })
    }

    /// The run's name.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// A glob matching every key of the run.
    pub fn pattern(&self) -> String {
        format!("{}:*", self.prefix)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// The run's config, seed and folders ([`crate::protocol::Meta`]).
    pub fn meta(&self) -> String {
        self.key("meta")
    }

    /// The lease of the search that drives the run (its fencing token).
    pub fn driver_lease(&self) -> String {
        self.key("driver:lease")
    }

    /// The run's state at the last round's end ([`crate::protocol::DriverState`]).
    pub fn driver(&self) -> String {
        self.key("driver")
    }

    /// The counter fencing tokens are drawn from.
    pub fn fence(&self) -> String {
        self.key("fence")
    }

    /// The current experiment's number (what workers' writes are checked against).
    pub fn experiment(&self) -> String {
        self.key("exp")
    }

    /// The current experiment's job ([`crate::protocol::Job`]).
    pub fn job(&self) -> String {
        self.key("job")
    }

    /// Rounds each island of experiment `e` has done (a hash: island → `N`, or `N!` when its
    /// last round stopped before its migration).
    pub fn rounds(&self, e: u64) -> String {
        self.key(&format!("e{e}:rounds"))
    }

    /// The round inside which experiment `e`'s search stops, once known (workers abandon later
    /// rounds).
    pub fn stop(&self, e: u64) -> String {
        self.key(&format!("e{e}:stop"))
    }

    /// Island `k`'s state as experiment `e` starts.
    pub fn base(&self, e: u64, k: usize) -> String {
        self.key(&format!("e{e}:base:{k}"))
    }

    /// Island `k`'s result of round `r` of experiment `e`.
    pub fn result(&self, e: u64, r: u64, k: usize) -> String {
        self.key(&format!("e{e}:r{r}:{k}"))
    }

    /// The migrants island `k` sends at the end of round `r` of experiment `e`.
    pub fn migrants(&self, e: u64, r: u64, k: usize) -> String {
        self.key(&format!("e{e}:m{r}:{k}"))
    }

    /// Island `k`'s last round of experiment `e`, cut where the search stopped.
    pub fn last(&self, e: u64, k: usize) -> String {
        self.key(&format!("e{e}:last:{k}"))
    }

    /// The lease of island `k`'s next round.
    pub fn lease(&self, k: usize) -> String {
        self.key(&format!("lease:{k}"))
    }

    /// Workers' heartbeats (a hash: worker → [`crate::protocol::Heartbeat`]).
    pub fn workers(&self) -> String {
        self.key("workers")
    }

    /// The run's figures for `status` ([`crate::protocol::Status`]).
    pub fn status(&self) -> String {
        self.key("status")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_by_run_in_one_slot() {
        let k = Keys::new("exp-1").unwrap();
        assert_eq!(k.meta(), "automl-zero:{exp-1}:meta");
        assert_eq!(k.result(2, 3, 4), "automl-zero:{exp-1}:e2:r3:4");
        assert_eq!(k.pattern(), "automl-zero:{exp-1}:*");
        assert!(Keys::new("a:b").is_err());
        assert!(Keys::new("").is_err());
        assert!(Keys::new("a}b").is_err());
    }
}
