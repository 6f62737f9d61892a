//! A dedicated, bounded pool for password hashing.
//!
//! argon2id costs ~20 ms of CPU by design. Running it on a few dedicated
//! threads (one per core) with a bounded queue keeps a login storm from
//! starving everything else: token refresh, `/v1/me`, the OTP step and
//! health checks never wait behind hashes, and when the queue is full a
//! login gets `503` with `Retry-After` at once instead of piling up.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc::{sync_channel, Receiver, SyncSender, TrySendError},
        Arc, Mutex,
    },
};

/// Why the pool did not run a job.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolRefusal {
    /// The queue is full: the caller should retry shortly.
    #[error("too many password hashes are queued")]
    Overloaded,
    /// The job panicked or the pool is gone.
    #[error("the hashing job failed")]
    Failed,
}

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct HashPool {
    jobs: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
    workers: usize,
    capacity: usize,
}

impl HashPool {
    pub fn new(workers: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers.max(1) {
            let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })?;
        }
        Ok(Self {
            jobs,
            waiting: Arc::new(AtomicUsize::new(0)),
            workers: workers.max(1),
            capacity: queue,
        })
    }

    /// Jobs queued or running now.
    pub fn in_use(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Runs `f` on the pool; `Overloaded` when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, PoolRefusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let waiting = self.waiting.clone();
        waiting.fetch_add(1, Ordering::Relaxed);
        let job: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
                tracing::error!("a hashing job panicked");
                PoolRefusal::Failed
            });
            waiting.fetch_sub(1, Ordering::Relaxed);
            let _ = done.send(outcome);
        });
        if let Err(e) = self.jobs.try_send(job) {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(match e {
                TrySendError::Full(_) => PoolRefusal::Overloaded,
                TrySendError::Disconnected(_) => PoolRefusal::Failed,
            });
        }
        result.await.map_err(|_| PoolRefusal::Failed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_and_return_their_result() {
        let pool = HashPool::new(2, 4).unwrap();
        assert_eq!(pool.run(|| 21 * 2).await.unwrap(), 42);
        assert_eq!(pool.in_use(), 0);
    }

    #[actix_web::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = Arc::new(HashPool::new(1, 1).unwrap());
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let blocked = Arc::new(Mutex::new(blocked));
        // One job runs (blocked), one waits in the queue: the third is refused.
        let spawn = |pool: Arc<HashPool>, blocked: Arc<Mutex<std::sync::mpsc::Receiver<()>>>| {
            actix_web::rt::spawn(async move {
                pool.run(move || {
                    let _ = blocked.lock().unwrap().recv();
                })
                .await
            })
        };
        let first = spawn(pool.clone(), blocked.clone());
        while pool.in_use() < 1 {
            actix_web::rt::task::yield_now().await;
        }
        // Let the worker take the first job off the queue, then fill it.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        let second = spawn(pool.clone(), blocked.clone());
        while pool.in_use() < 2 {
            actix_web::rt::task::yield_now().await;
        }
        assert_eq!(pool.run(|| ()).await, Err(PoolRefusal::Overloaded));
        release.send(()).unwrap();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
    }

    #[actix_web::test]
    async fn a_panicking_job_is_an_internal_error_and_the_worker_survives() {
        let pool = HashPool::new(1, 2).unwrap();
        let r: Result<(), PoolRefusal> = pool.run(|| panic!("boom")).await;
        assert_eq!(r, Err(PoolRefusal::Failed));
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }
}
