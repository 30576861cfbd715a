//! Failed logins of names nobody holds, folded per client address and minute.
//!
//! Each such failure is audited, but a security event for every one would let an anonymous
//! client queue thousands of webhook deliveries ahead of the events that matter (an admin's
//! reset, a locked account). So an address gets one event per minute for unknown names; the
//! failures it folds are counted into that address's next such event.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::Timestamp;

/// Addresses remembered at most; past it, those of earlier minutes are forgotten first.
const MAX_ADDRESSES: usize = 10_000;

/// Per address: the minute of its last event, and the failures folded since.
#[derive(Debug, Default)]
pub(crate) struct UnknownNameFailures {
    addresses: Mutex<HashMap<String, (i64, u64)>>,
}

impl UnknownNameFailures {
    /// One failure of an unknown name from `address` at `at`: `Some(folded)` when it gets an
    /// event of its own (with how many earlier failures it stands for), `None` when it is
    /// folded into the address's next event.
    pub(crate) fn fold(&self, address: &str, at: Timestamp) -> Option<u64> {
        let minute = at.div_euclid(60);
        let mut addresses = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((last, folded)) = addresses.get_mut(address) {
            if *last == minute {
                *folded += 1;
                return None;
            }
            let earlier = *folded;
            *last = minute;
            *folded = 0;
            return Some(earlier);
        }
        if addresses.len() >= MAX_ADDRESSES {
            addresses.retain(|_, (last, _)| *last == minute);
            if addresses.len() >= MAX_ADDRESSES {
                addresses.clear();
            }
        }
        addresses.insert(address.to_string(), (minute, 0));
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_address_and_minute_carrying_what_it_folded() {
        let f = UnknownNameFailures::default();
        let t = 6_000_000;
        assert_eq!(f.fold("a", t), Some(0));
        assert_eq!(f.fold("a", t + 1), None);
        assert_eq!(f.fold("a", t + 59), None);
        // Another address is its own.
        assert_eq!(f.fold("b", t + 2), Some(0));
        // The next minute: an event again, standing for the two folded.
        assert_eq!(f.fold("a", t + 60), Some(2));
        assert_eq!(f.fold("a", t + 61), None);
    }
}
