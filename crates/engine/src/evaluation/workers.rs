//! The threads a batch of evaluations runs on: none (the caller's thread) or a rayon pool.

use rayon::prelude::*;
use std::sync::Arc;

/// The most worker threads a run may ask for.
pub const MAX_THREADS: usize = 1024;

/// The worker threads of an evaluator (cloning shares the threads).
#[derive(Clone)]
pub struct Workers {
    pool: Option<Arc<rayon::ThreadPool>>,
    threads: usize,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Workers({})", self.threads)
    }
}

impl Default for Workers {
    fn default() -> Self {
        Workers::sequential()
    }
}

impl Workers {
    /// Work on the caller's thread only.
    pub fn sequential() -> Workers {
        Workers {
            pool: None,
            threads: 1,
        }
    }

    /// `threads` worker threads (0: one per core); 1 runs on the caller's thread.
    pub fn new(threads: usize) -> Result<Workers, String> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        if threads > MAX_THREADS {
            return Err(format!(
                "{threads} threads is more than the {MAX_THREADS} allowed"
            ));
        }
        if threads == 1 {
            return Ok(Workers::sequential());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("automl-zero-worker-{i}"))
            // As much stack as the main thread has: the interpreter's temporaries for the
            // largest feature size run in lanes need more than the default 2 MiB in an
            // unoptimised build.
            .stack_size(8 << 20)
            .build()
            .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
        Ok(Workers {
            pool: Some(Arc::new(pool)),
            threads,
        })
    }

    /// The number of threads work is spread over.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The index of the calling worker, in `0..threads()`.
    pub(crate) fn index(&self) -> usize {
        rayon::current_thread_index().unwrap_or(0) % self.threads
    }

    /// Runs `f` on one of the workers (so that the parallel steps inside it start without a
    /// hand-over from an outside thread), or on the caller's thread when there is no pool.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            None => f(),
            Some(pool) => pool.install(f),
        }
    }

    /// Runs `a` and `b`, at once when there are workers to spare.
    pub(crate) fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        match &self.pool {
            None => (a(), b()),
            Some(pool) => pool.install(|| rayon::join(a, b)),
        }
    }

    /// Runs `f` on every item, spread over the workers.
    pub(crate) fn for_each<T: Send>(&self, items: &mut [T], f: impl Fn(&mut T) + Sync + Send) {
        match &self.pool {
            None => items.iter_mut().for_each(f),
            Some(pool) => pool.install(|| items.par_iter_mut().with_max_len(1).for_each(f)),
        }
    }

    /// Maps every item through `f` into `out` (in order), spread over the workers.
    pub(crate) fn map<T: Sync, R: Send>(
        &self,
        items: &[T],
        out: &mut Vec<R>,
        f: impl Fn(&T) -> R + Sync + Send,
    ) {
        match &self.pool {
            None => {
                out.clear();
                out.extend(items.iter().map(f));
            }
            Some(pool) => pool.install(|| {
                items
                    .par_iter()
                    .with_max_len(1)
                    .map(f)
                    .collect_into_vec(out)
            }),
        }
    }
}
