//! Large listings take turns: a request for more than [`LARGE`] rows (or for everything)
//! holds one of a few permits while it reads and renders, so a handful of clients asking
//! for every user cannot exhaust the server's memory together. One waits briefly for a
//! permit, then gets the surface's busy answer. Every listing streams (`api::stream`), a
//! chunk of rows at a time.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rbac_core::{Error, Page, UserId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Rows above which a listing is large.
pub const LARGE: u64 = 1_000;

/// The permits for large listings on this instance.
#[derive(Debug)]
pub struct Listings {
    permits: Arc<Semaphore>,
    /// Who holds or waits for a turn: one each.
    holders: Arc<Mutex<HashSet<UserId>>>,
    wait: Duration,
    chunk: u64,
}

/// A large listing's turn, held until its answer is sent (or its connection cut).
#[derive(Debug)]
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    _holder: Holder,
}

/// A user's place among those holding or waiting for a turn.
#[derive(Debug)]
struct Holder {
    holders: Arc<Mutex<HashSet<UserId>>>,
    user: UserId,
}

impl Drop for Holder {
    fn drop(&mut self) {
        lock(&self.holders).remove(&self.user);
    }
}

fn lock(holders: &Mutex<HashSet<UserId>>) -> std::sync::MutexGuard<'_, HashSet<UserId>> {
    holders.lock().unwrap_or_else(|p| p.into_inner())
}

impl Listings {
    /// `at_once` large listings at a time; a further one waits up to `wait`.
    pub fn new(at_once: u32, wait: Duration) -> Self {
        Listings {
            permits: Arc::new(Semaphore::new(at_once as usize)),
            holders: Arc::default(),
            wait,
            chunk: rbac_core::service::CHUNK,
        }
    }

    /// Listings read `rows` per store query while they stream.
    pub fn with_chunk(mut self, rows: u64) -> Self {
        self.chunk = rows.max(1);
        self
    }

    /// Rows per store query of a streaming listing.
    pub fn chunk(&self) -> u64 {
        self.chunk
    }

    /// A turn for `user`'s listing of `page` when it is large (`None` for a small one,
    /// which needs none); `Busy` when none frees up in time, or when `user` holds or waits
    /// for one already (one user cannot take every turn). Hold it until the answer is sent.
    pub async fn admit(&self, page: &Page, user: UserId) -> Result<Option<Turn>, Error> {
        if page.limit.is_some_and(|rows| rows <= LARGE) {
            return Ok(None);
        }
        if !lock(&self.holders).insert(user) {
            tracing::info!(
                user,
                "a large listing while the user holds a turn: answered busy"
            );
            return Err(Error::Busy);
        }
        let holder = Holder {
            holders: self.holders.clone(),
            user,
        };
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(Turn {
                _permit: permit,
                _holder: holder,
            })),
            _ => {
                tracing::info!("a large listing found no free turn: answered busy");
                Err(Error::Busy)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn large_listings_take_turns_and_small_ones_never_wait() {
        let listings = Listings::new(2, Duration::from_millis(50));
        let first = listings.admit(&Page::ALL, 1).await.expect("first");
        let second = listings
            .admit(&Page::nth(0, LARGE + 1), 2)
            .await
            .expect("second");
        assert!(first.is_some() && second.is_some());
        assert!(matches!(
            listings.admit(&Page::ALL, 3).await,
            Err(Error::Busy)
        ));
        // A small page needs no turn, even now.
        assert!(matches!(
            listings.admit(&Page::nth(3, LARGE), 3).await,
            Ok(None)
        ));
        drop(first);
        // One turn per user: the holder of the other is refused at once, another gets it.
        assert!(matches!(
            listings.admit(&Page::ALL, 2).await,
            Err(Error::Busy)
        ));
        assert!(listings
            .admit(&Page::ALL, 3)
            .await
            .expect("freed")
            .is_some());
        // None at all: every large listing is busy.
        let none = Listings::new(0, Duration::from_millis(10));
        assert!(matches!(none.admit(&Page::ALL, 1).await, Err(Error::Busy)));
        assert!(matches!(none.admit(&Page::nth(0, 20), 1).await, Ok(None)));
    }
}
