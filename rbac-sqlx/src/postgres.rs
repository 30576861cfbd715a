//! PostgreSQL: connection options, migrations and the dialect.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::query::Query;
use sqlx::{Row, Transaction};

use crate::dialect::SqlDialect;

/// The NOTIFY channel on which committed change ids are published.
pub(crate) const CHANNEL: &str = "rbac_changes";

/// Opens a pool.
pub(crate) async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(10).connect(url).await
}

/// Rewrites `?` placeholders to `$1..$n`, leaving quoted text alone.
pub(crate) fn numbered(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in q.chars() {
        match (quote, c) {
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if open == c => quote = None,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What differs on PostgreSQL.
#[derive(Clone, Copy)]
pub(crate) struct Dialect;

impl SqlDialect for Dialect {
    type Db = Postgres;

    /// With numbered placeholders, rewritten once per distinct statement.
    fn sql(self, q: &str) -> Cow<'_, str> {
        statement(q)
    }

    fn sql_once(self, q: &str) -> Cow<'_, str> {
        Cow::Owned(numbered(q))
    }

    fn insert_sql(self, q: &str) -> String {
        numbered(&format!("{q} RETURNING id"))
    }

    async fn begin(self, pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        pool.begin().await
    }

    async fn insert_id<'q>(
        self,
        q: Query<'q, Postgres, PgArguments>,
        conn: &mut PgConnection,
    ) -> Result<i64, sqlx::Error> {
        q.fetch_one(conn).await?.try_get(0)
    }

    /// Delivered to listeners when the transaction commits.
    async fn notify(self, conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(id.to_string())
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// `LIKE` with the substring escaped, so a trigram index (migration 13, when `pg_trgm`
    /// could be created) serves it; without one it scans, as `strpos` would.
    fn name_contains(self) -> &'static str {
        "name LIKE ? ESCAPE '\\'"
    }

    /// `id + 0`: with a generic plan PostgreSQL would walk the primary key in order and test
    /// every name when the match is rare (0.3 s at a million users); this way the trigram
    /// index finds the matches and only they are sorted.
    fn filtered_order_key(self) -> &'static str {
        "id + 0"
    }

    fn name_pattern(self, needle: &str) -> std::borrow::Cow<'_, str> {
        let mut pattern = String::with_capacity(needle.len() + 2);
        pattern.push('%');
        for c in needle.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        std::borrow::Cow::Owned(pattern)
    }

    fn for_update(self) -> &'static str {
        " FOR UPDATE"
    }
}

/// Distinct statements kept rewritten (the store's own are a few hundred; statements built
/// per call beyond this bound are rewritten each time instead of growing the cache).
const STATEMENTS_KEPT: usize = 4096;

/// `q` with numbered placeholders: rewritten the first time, then read from a cache.
fn statement(q: &str) -> Cow<'static, str> {
    type Cache = RwLock<HashMap<Box<str>, &'static str>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if let Some(done) = cache.read().ok().and_then(|c| c.get(q).copied()) {
        return Cow::Borrowed(done);
    }
    let rewritten = numbered(q);
    let Ok(mut cache) = cache.write() else {
        return Cow::Owned(rewritten);
    };
    if let Some(done) = cache.get(q) {
        return Cow::Borrowed(*done);
    }
    if cache.len() >= STATEMENTS_KEPT {
        return Cow::Owned(rewritten);
    }
    // Kept for the life of the process, bounded by STATEMENTS_KEPT.
    let kept: &'static str = Box::leak(rewritten.into_boxed_str());
    cache.insert(q.into(), kept);
    Cow::Borrowed(kept)
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("a = ? AND b = '?' AND c = ?"),
            "a = $1 AND b = '?' AND c = $2"
        );
        assert_eq!(numbered("\"x?\" = ?"), "\"x?\" = $1");
        assert_eq!(numbered("no params"), "no params");
    }

    #[test]
    fn a_statement_is_rewritten_once() {
        let first = super::statement("SELECT ? + ?");
        let again = super::statement("SELECT ? + ?");
        assert_eq!(first, "SELECT $1 + $2");
        assert!(
            matches!((&first, &again), (std::borrow::Cow::Borrowed(a), std::borrow::Cow::Borrowed(b)) if std::ptr::eq(*a, *b)),
            "the second call reads the first rewrite"
        );
    }
}
