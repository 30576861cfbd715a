//! Logins and failed logins per hour on this instance: what an overview charts, kept as it
//! happens so that drawing it reads no log rows.

use std::sync::Mutex;

use crate::model::Timestamp;

/// Hours kept.
pub const ACTIVITY_HOURS: usize = 24;

/// One hour's counts: which hour (seconds since the epoch / 3600), logins, failures.
#[derive(Debug, Default, Clone, Copy)]
struct Hour {
    hour: i64,
    logins: u64,
    failures: u64,
}

/// Logins and failed logins per hour on this instance over the last
/// [`ACTIVITY_HOURS`] hours.
#[derive(Debug, Default)]
pub struct LoginActivity {
    hours: Mutex<[Hour; ACTIVITY_HOURS]>,
}

/// The last [`ACTIVITY_HOURS`] hours, oldest first, the current hour last.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hourly {
    /// Successful logins per hour.
    pub logins: [u64; ACTIVITY_HOURS],
    /// Failed logins (wrong name or password) per hour.
    pub failures: [u64; ACTIVITY_HOURS],
}

impl LoginActivity {
    /// Counts one login at `at`: a success or a failure.
    pub fn record(&self, at: Timestamp, success: bool) {
        let hour = at.div_euclid(3600);
        let mut hours = self.hours.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &mut hours[slot_of(hour)];
        if slot.hour != hour {
            *slot = Hour {
                hour,
                ..Hour::default()
            };
        }
        if success {
            slot.logins += 1;
        } else {
            slot.failures += 1;
        }
    }

    /// The hours up to the one holding `now`, oldest first.
    pub fn last_hours(&self, now: Timestamp) -> Hourly {
        let current = now.div_euclid(3600);
        let hours = self.hours.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Hourly::default();
        for (i, hour) in (current - ACTIVITY_HOURS as i64 + 1..=current).enumerate() {
            let slot = hours[slot_of(hour)];
            if slot.hour == hour {
                out.logins[i] = slot.logins;
                out.failures[i] = slot.failures;
            }
        }
        out
    }
}

fn slot_of(hour: i64) -> usize {
    hour.rem_euclid(ACTIVITY_HOURS as i64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_roll_over_and_old_ones_drop_out() {
        let a = LoginActivity::default();
        let t = 500_000 * 3600;
        a.record(t, true);
        a.record(t + 10, false);
        a.record(t + 3600, true);
        let h = a.last_hours(t + 3600);
        assert_eq!(h.logins[ACTIVITY_HOURS - 2..], [1, 1]);
        assert_eq!(h.failures[ACTIVITY_HOURS - 2..], [1, 0]);
        // A day later the same slots hold new hours: the old counts are gone.
        a.record(t + 24 * 3600, true);
        let h = a.last_hours(t + 24 * 3600);
        assert_eq!(h.logins.iter().sum::<u64>(), 2, "{h:?}");
        assert_eq!(h.failures.iter().sum::<u64>(), 0, "{h:?}");
    }
}
