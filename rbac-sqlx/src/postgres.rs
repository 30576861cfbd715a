//! PostgreSQL: connection options, migrations and the dialect.

use std::borrow::Cow;

use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::query::Query;
use sqlx::{Row, Transaction};

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

impl Dialect {
    /// The statement with numbered placeholders.
    pub(crate) fn sql(self, q: &str) -> Cow<'_, str> {
        Cow::Owned(numbered(q))
    }

    /// An insert statement that yields the new row's id.
    pub(crate) fn insert_sql(self, q: &str) -> String {
        numbered(&format!("{q} RETURNING id"))
    }

    /// Starts a transaction.
    pub(crate) async fn begin(
        self,
        pool: &PgPool,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        pool.begin().await
    }

    /// Runs an [`insert_sql`](Self::insert_sql) statement and returns the new id.
    pub(crate) async fn insert_id(
        self,
        q: Query<'_, Postgres, PgArguments>,
        conn: &mut PgConnection,
    ) -> Result<i64, sqlx::Error> {
        q.fetch_one(conn).await?.try_get(0)
    }

    /// Publishes a change id to listeners, delivered when the transaction commits.
    pub(crate) async fn notify(self, conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(id.to_string())
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// A literal, case-sensitive substring test of `name` against one parameter.
    pub(crate) fn name_contains(self) -> &'static str {
        "strpos(name, ?) > 0"
    }

    /// Inserts a setting unless its key exists.
    pub(crate) fn insert_setting(self) -> &'static str {
        "INSERT INTO rbac_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    }

    /// Counts one failed login: binds subject, at, the window cut-off twice.
    pub(crate) fn upsert_login_failure(self) -> &'static str {
        "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
         VALUES (?, 1, ?, 0) ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN rbac_login_failures.window_start <= ? THEN 1 \
                    ELSE rbac_login_failures.failures + 1 END, \
         window_start = CASE WHEN rbac_login_failures.window_start <= ? \
                        THEN excluded.window_start ELSE rbac_login_failures.window_start END"
    }

    /// Stores a code unless the pending one is too recent (see [`crate::upsert::CODE`]).
    pub(crate) fn upsert_code(self) -> &'static str {
        crate::upsert::CODE
    }

    /// How many times [`Dialect::upsert_code`] binds the resend cut-off.
    pub(crate) fn code_cutoff_binds(self) -> usize {
        1
    }

    /// Inserts or renames an organisation (see [`crate::upsert::ORGANISATION`]).
    pub(crate) fn upsert_organisation(self) -> &'static str {
        crate::upsert::ORGANISATION
    }

    /// The row-lock suffix of a `SELECT` in a transaction.
    pub(crate) fn for_update(self) -> &'static str {
        " FOR UPDATE"
    }
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
}
