//! Large listings take turns: a request for more than [`LARGE`] rows (or for everything)
//! holds one of a few permits while it reads and renders, so a handful of clients asking
//! for every user cannot exhaust the server's memory together. One waits briefly for a
//! permit, then gets the surface's busy answer. Every listing streams (`api::stream`), a
//! chunk of rows at a time.

use std::time::Duration;

use rbac_core::{Error, Page};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Rows above which a listing is large.
pub const LARGE: u64 = 1_000;

/// The permits for large listings on this instance.
#[derive(Debug)]
pub struct Listings {
    permits: std::sync::Arc<Semaphore>,
    wait: Duration,
    chunk: u64,
}

impl Listings {
    /// `at_once` large listings at a time; a further one waits up to `wait`.
    pub fn new(at_once: u32, wait: Duration) -> Self {
        Listings {
            permits: std::sync::Arc::new(Semaphore::new(at_once as usize)),
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

    /// A permit for a listing of `page` when it is large (`None` for a small one, which
    /// needs none); `Busy` when none frees up in time. Hold it until the answer is built.
    pub async fn admit(&self, page: &Page) -> Result<Option<OwnedSemaphorePermit>, Error> {
        if page.limit.is_some_and(|rows| rows <= LARGE) {
            return Ok(None);
        }
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
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
        let first = listings.admit(&Page::ALL).await.expect("first");
        let second = listings
            .admit(&Page::numbered(0, LARGE + 1))
            .await
            .expect("second");
        assert!(first.is_some() && second.is_some());
        assert!(matches!(listings.admit(&Page::ALL).await, Err(Error::Busy)));
        // A small page needs no turn, even now.
        assert!(matches!(
            listings.admit(&Page::numbered(3, LARGE)).await,
            Ok(None)
        ));
        drop(first);
        assert!(listings.admit(&Page::ALL).await.expect("freed").is_some());
        // None at all: every large listing is busy.
        let none = Listings::new(0, Duration::from_millis(10));
        assert!(matches!(none.admit(&Page::ALL).await, Err(Error::Busy)));
        assert!(matches!(none.admit(&Page::numbered(0, 20)).await, Ok(None)));
    }
}
