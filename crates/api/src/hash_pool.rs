//! A dedicated, bounded pool for password hashing.
//!
//! argon2id costs ~20 ms of CPU by design. Running it on a few dedicated
//! threads (one per core) with a bounded queue keeps a login storm from
//! starving everything else: token refresh, `/v1/me`, the OTP step and
//! health checks never wait behind hashes, and when the queue is full a
//! login gets `503` with `Retry-After` at once instead of piling up.

use std::{
    collections::HashMap,
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
    /// This client address already has its share of jobs in flight.
    #[error("too many password checks from this address at once")]
    Busy,
}

use auth_core::client_address::ConcurrencyCap;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct HashPool {
    jobs: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
    workers: usize,
    capacity: usize,
    /// Jobs in flight per client address group, and how many each may have.
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    cap: ConcurrencyCap,
}

/// One job's place in its address's share; leaving gives it back.
struct Slot {
    key: String,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = match self.in_flight.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
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
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            cap: ConcurrencyCap {
                per_address: usize::MAX,
            },
        })
    }

    /// Limits the jobs one address group may have queued or running.
    pub fn per_address(mut self, per_address: usize) -> Self {
        self.cap = ConcurrencyCap { per_address };
        self
    }

    /// Takes a place in `key`'s share, or `Busy` when it is used up.
    fn slot(&self, key: &str) -> Result<Slot, PoolRefusal> {
        let mut map = match self.in_flight.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = map.entry(key.to_owned()).or_insert(0);
        if !self.cap.admits(*n) {
            return Err(PoolRefusal::Busy);
        }
        *n += 1;
        Ok(Slot {
            key: key.to_owned(),
            in_flight: self.in_flight.clone(),
        })
    }

    /// Runs `f` for the client address group `key` (none: not capped).
    pub async fn run_for<T, F>(&self, key: Option<&str>, f: F) -> Result<T, PoolRefusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = key.map(|k| self.slot(k)).transpose()?;
        let result = self.run(f).await;
        drop(slot);
        result
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
    async fn one_address_cannot_take_more_than_its_share() {
        let pool = Arc::new(HashPool::new(2, 8).unwrap().per_address(1));
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let first = {
            let pool = pool.clone();
            actix_web::rt::spawn(async move {
                pool.run_for(Some("203.0.113.9"), move || {
                    let _ = blocked.recv();
                })
                .await
            })
        };
        while pool.in_use() < 1 {
            actix_web::rt::task::yield_now().await;
        }
        assert_eq!(
            pool.run_for(Some("203.0.113.9"), || ()).await,
            Err(PoolRefusal::Busy)
        );
        assert_eq!(pool.run_for(Some("198.51.100.7"), || 7).await, Ok(7));
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(pool.run_for(Some("203.0.113.9"), || 8).await, Ok(8));
        assert!(pool.in_flight.lock().unwrap().is_empty());
    }

    #[actix_web::test]
    async fn a_panicking_job_is_an_internal_error_and_the_worker_survives() {
        let pool = HashPool::new(1, 2).unwrap();
        let r: Result<(), PoolRefusal> = pool.run(|| panic!("boom")).await;
        assert_eq!(r, Err(PoolRefusal::Failed));
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }
}
