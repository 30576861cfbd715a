//! Authentication: credentials, tokens and password hashing, and the use-cases that sign
//! users in and keep their sessions: login and its second step, sessions, password
//! changes, and the login throttle and abuse limits.

pub(crate) mod accounts;
pub(crate) mod activity;
pub(crate) mod challenge;
pub(crate) mod credential;
pub(crate) mod facet;
pub(crate) mod limits;
pub(crate) mod noise;
pub(crate) mod password;
pub(crate) mod passwords;
pub(crate) mod port;
pub(crate) mod sessions;
pub(crate) mod throttle;
pub(crate) mod token;
