//! SQLite's WAL, moved into the database file off the request path.

use std::{path::PathBuf, time::Duration};

use diesel::{connection::SimpleConnection, sqlite::SqliteConnection, Connection};

/// Moves SQLite's WAL into the database file every second, off the request
/// path. RESTART waits (briefly) for readers of old snapshots so the next
/// writer starts the WAL over: under steady load a passive checkpoint
/// alone let the WAL grow without bound, and a restart then spent ~300 ms
/// replaying it.
pub(crate) struct Checkpoints {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Joined by [`Checkpoints::finish`], so the final checkpoint runs
    /// before the process exits (a detached thread was cut off by exit).
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Checkpoints {
    pub(crate) fn start(path: PathBuf) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let Ok(mut conn) = SqliteConnection::establish(&path.to_string_lossy()) else {
                    return;
                };
                // Wait at most this long for readers (a busy moment just
                // skips a checkpoint); truncate a WAL that grew past 64 MiB.
                let _ = conn.batch_execute(
                    "PRAGMA busy_timeout = 100; PRAGMA journal_size_limit = 67108864;",
                );
                // Four ticks a second to notice `stop`; one checkpoint a second.
                let mut ticks = 0u32;
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    ticks = ticks.wrapping_add(1);
                    if ticks.is_multiple_of(4) {
                        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(RESTART)") {
                            tracing::warn!(error = %e, "SQLite checkpoint failed");
                        }
                    }
                }
                // A last, complete checkpoint leaves a tidy database behind:
                // the WAL moved into the file and truncated to zero bytes.
                // Wait longer for the last readers than a routine tick does.
                let _ = conn.batch_execute("PRAGMA busy_timeout = 5000;");
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)") {
                    tracing::warn!(error = %e, "final SQLite checkpoint failed");
                }
            });
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the SQLite checkpoint thread");
                None
            }
        };
        Self {
            stop,
            thread: std::sync::Mutex::new(thread),
        }
    }

    /// Stops the thread and waits for its final, truncating checkpoint.
    pub(crate) fn finish(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
