//! Lists written as rows arrive: an answer whose list field is [`List::Streamed`] is
//! rendered once around a marker, then its rows are written between the two halves a chunk at
//! a time, as [`Rows`] reads them from the store. The bytes are those of the buffered
//! rendering (`serde_json` of the same answer with [`List::Rows`]); a listing that fits in
//! its first chunk is sent whole, with its length. An error after the first chunk aborts the
//! connection, so a reader never takes a cut-off document for a whole one.

use crate::api::listings::Turn;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use rbac_core::service::Rows;
use rbac_core::Error;
use serde::{Serialize, Serializer};

/// What stands where the rows go while the rest of the answer is rendered.
const MARKER: &str = "\u{1}rows streamed here\u{1}";

/// A list field of an answer: its rows, or (when the answer streams) their place.
#[derive(Debug)]
pub(crate) enum List<T> {
    /// The rows, rendered with the answer (the buffered rendering the streamed one equals).
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the buffered rendering, which the tests compare with"
        )
    )]
    Rows(Vec<T>),
    /// Written by [`stream`] as they arrive.
    Streamed,
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            List::Rows(rows) => rows.serialize(serializer),
            List::Streamed => serializer.serialize_str(MARKER),
        }
    }
}

/// The answer `answer` (holding one [`List::Streamed`]) with `rows`, each rendered by
/// `render`, in its place. The first chunk is read before answering, so a failure there is
/// the surface's refusal; `turn` (a large listing's permit) is held until the last byte.
pub(crate) async fn stream<A, T, R, F>(
    answer: &A,
    mut rows: Rows<T>,
    render: F,
    turn: Option<Turn>,
) -> Result<Response, Error>
where
    A: Serialize,
    T: Send + 'static,
    R: Serialize,
    F: Fn(T) -> R + Send + 'static,
{
    let (head, tail) = halves(answer)?;
    let first = rows.next_chunk().await?.unwrap_or_default();
    let mut out = head;
    out.push(b'[');
    let written = write_rows(&mut out, first, &render, 0)?;
    if written == rows.count() {
        out.push(b']');
        out.extend_from_slice(&tail);
        return Ok(json(Body::from(out)));
    }
    let state = Streaming {
        rows,
        render,
        tail,
        turn,
        ready: Some(Bytes::from(out)),
        written,
    };
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        if let Some(ready) = state.ready.take() {
            return Some((Ok(ready), Some(state)));
        }
        match state.rows.next_chunk().await {
            Ok(Some(chunk)) => {
                let mut out = Vec::with_capacity(chunk.len() * 256);
                match write_rows(&mut out, chunk, &state.render, state.written) {
                    Ok(n) => {
                        state.written = n;
                        Some((Ok(Bytes::from(out)), Some(state)))
                    }
                    Err(e) => Some((Err(aborted(e)), None)),
                }
            }
            Ok(None) => {
                let mut out = Vec::with_capacity(1 + state.tail.len());
                out.push(b']');
                out.extend_from_slice(&state.tail);
                drop(state.turn);
                Some((Ok(Bytes::from(out)), None))
            }
            Err(e) => Some((Err(aborted(e)), None)),
        }
    });
    Ok(json(Body::from_stream(body)))
}

/// A listing being written.
struct Streaming<T, F> {
    rows: Rows<T>,
    render: F,
    /// The answer after the rows.
    tail: Vec<u8>,
    /// The large listing's permit, released with the last byte (or the dropped answer).
    turn: Option<Turn>,
    /// Bytes to send before reading more.
    ready: Option<Bytes>,
    /// Rows written so far.
    written: u64,
}

/// The rendering of `answer` before and after its rows' place.
fn halves<A: Serialize>(answer: &A) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let text = serde_json::to_vec(answer).map_err(Error::internal)?;
    let marker = serde_json::to_vec(MARKER).map_err(Error::internal)?;
    let at = text
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .ok_or_else(|| Error::internal("a streamed answer has no place for its rows"))?;
    Ok((text[..at].to_vec(), text[at + marker.len()..].to_vec()))
}

/// Appends rows as JSON array elements, the first after `before` rows already written;
/// returns how many are written now.
fn write_rows<T, R: Serialize>(
    out: &mut Vec<u8>,
    rows: Vec<T>,
    render: &impl Fn(T) -> R,
    before: u64,
) -> Result<u64, Error> {
    let mut written = before;
    for row in rows {
        if written > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &render(row)).map_err(Error::internal)?;
        written += 1;
    }
    Ok(written)
}

/// An error mid-stream, logged; the connection is aborted.
fn aborted(e: Error) -> std::io::Error {
    tracing::warn!(error = %e, source = ?std::error::Error::source(&e), "a streamed listing failed; aborting the answer");
    std::io::Error::other(e.to_string())
}

/// A JSON answer.
fn json(body: Body) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::api::envelope::{streamed_page, Reply};
    use rbac_core::service::ImportedUser;
    use rbac_core::{JwtCodec, JwtKey, MemoryStore, PrivilegeRegistry, Rbac, RbacConfig};

    #[derive(Serialize)]
    struct Row {
        id: u64,
        name: String,
        note: Option<String>,
    }

    #[derive(Serialize)]
    struct Page {
        before: &'static str,
        rows: List<Row>,
        after: u64,
    }

    fn rows(n: u64) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                id: i,
                name: format!("<script>\"{i}\"</script> 名前 \u{1}rows\u{2028}"),
                note: (i % 3 == 0).then(|| "\\n".repeat(i as usize % 5)),
            })
            .collect()
    }

    async fn bytes(response: Response) -> Result<Bytes, axum::Error> {
        axum::body::to_bytes(response.into_body(), usize::MAX).await
    }

    #[tokio::test]
    async fn a_streamed_page_is_byte_for_byte_the_buffered_one() {
        for n in [0, 1, 99, 100, 101, 2_345] {
            for chunk in [1, 7, 1_000, 5_000] {
                let buffered = Reply::page_of(
                    Page {
                        before: "x",
                        rows: List::Rows(rows(n)),
                        after: n,
                    },
                    n + 5,
                    n as usize,
                )
                .into_response();
                let streamed = streamed_page(
                    Page {
                        before: "x",
                        rows: List::Streamed,
                        after: n,
                    },
                    Rows::from_rows(rows(n), n + 5).with_chunk(chunk),
                    |r| r,
                    None,
                )
                .await
                .expect("streams");
                // Longer than a chunk: sent as it is read, without a length.
                assert_eq!(
                    axum::body::HttpBody::size_hint(streamed.body())
                        .exact()
                        .is_some(),
                    n <= chunk,
                    "{n} rows, chunks of {chunk}"
                );
                let (want, got) = (bytes(buffered).await, bytes(streamed).await);
                assert_eq!(
                    want.expect("buffered"),
                    got.expect("streamed"),
                    "{n} rows, chunks of {chunk}"
                );
            }
        }
    }

    #[tokio::test]
    async fn an_error_mid_stream_aborts_the_answer() {
        let store = Arc::new(MemoryStore::new());
        let rbac = Rbac::new(
            store.clone(),
            Arc::new(PrivilegeRegistry::new(["UserAccess"])),
            JwtCodec::new(JwtKey::from_secret("stream-test-secret-stream-test-s"), []),
            RbacConfig::default(),
        )
        .await
        .expect("rbac");
        let users = (0..300)
            .map(|i| ImportedUser {
                name: format!("streamed{i}"),
                password_hash: "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
                    .into(),
                email: String::new(),
                phone: String::new(),
                alias: String::new(),
                role_name: String::new(),
                enabled: true,
            })
            .collect();
        rbac.users().import(users).await.expect("import");
        let listing = |rbac: Rbac| async move {
            let rows = rbac
                .users()
                .rows_unchecked(&rbac_core::UserQuery::default())
                .await
                .expect("rows")
                .with_chunk(50);
            let answer = Page {
                before: "x",
                rows: List::Streamed,
                after: 0,
            };
            stream(&answer, rows, |v| v.user.id, None)
                .await
                .expect("first chunk")
        };
        // Positive control: untouched, the whole answer arrives and parses.
        let whole = bytes(listing(rbac.clone()).await).await.expect("whole");
        let parsed: serde_json::Value = serde_json::from_slice(&whole).expect("json");
        assert_eq!(parsed["rows"].as_array().map(Vec::len), Some(300));
        // Users deleted after the first chunk was sent: the body fails, never ends short.
        let response = listing(rbac.clone()).await;
        let last = rbac_core::store::UserStore::user_rows(
            store.as_ref(),
            &rbac_core::UserQuery::default(),
            None,
        )
        .await
        .expect("users");
        for u in last.iter().rev().take(10) {
            rbac_core::store::UserStore::delete_user(store.as_ref(), u.id, &Default::default())
                .await
                .expect("delete");
        }
        assert!(
            bytes(response).await.is_err(),
            "a short answer was sent whole"
        );
    }
}
