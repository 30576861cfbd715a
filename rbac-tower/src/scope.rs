//! Where a scoped requirement holds: the scope a request acts in, read from the request.

use std::sync::Arc;

use http::HeaderName;
use rbac_core::{Scope, ScopeKind};

/// What a scope source may read of a request: its head, by reference.
#[derive(Debug)]
pub struct RequestHead<'a> {
    /// The method.
    pub method: &'a http::Method,
    /// The URI.
    pub uri: &'a http::Uri,
    /// The headers.
    pub headers: &'a http::HeaderMap,
    /// The extensions (an application's own routing data, a client address, …).
    pub extensions: &'a http::Extensions,
}

/// A function reading a request's scope.
type ScopeFn = dyn Fn(&RequestHead<'_>) -> Option<Scope> + Send + Sync;

/// Where [`RbacLayer::in_scope`](crate::RbacLayer::in_scope) reads the scope a request acts
/// in. A request whose scope cannot be read is refused (fail closed).
#[derive(Clone)]
pub enum ScopeSource {
    /// A header whose value is the whole scope, `kind:id`.
    Header(HeaderName),
    /// A header whose value is the id of a scope of this kind.
    HeaderId {
        /// The header.
        name: HeaderName,
        /// The scope's kind.
        kind: ScopeKind,
    },
    /// The path segment at `index` (0 is the first after the leading `/`) is the id of a
    /// scope of this kind: `/desks/sports/articles` with `index` 1 is `desk:sports`. A
    /// segment that is no valid scope id (see [`Scope`]) is unreadable.
    PathSegment {
        /// Which segment.
        index: usize,
        /// The scope's kind.
        kind: ScopeKind,
    },
    /// A function of the request head.
    Custom(Arc<ScopeFn>),
    /// No one scope: the requirement holds globally or in any scope the principal holds
    /// roles in. A gate before the action reads its scope (from the body, say) and checks
    /// it there; no [`CheckedScope`] is recorded.
    Anywhere,
}

impl std::fmt::Debug for ScopeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeSource::Header(name) => f.debug_tuple("Header").field(name).finish(),
            ScopeSource::HeaderId { name, kind } => f
                .debug_struct("HeaderId")
                .field("name", name)
                .field("kind", kind)
                .finish(),
            ScopeSource::PathSegment { index, kind } => f
                .debug_struct("PathSegment")
                .field("index", index)
                .field("kind", kind)
                .finish(),
            ScopeSource::Custom(_) => f.write_str("Custom(..)"),
            ScopeSource::Anywhere => f.write_str("Anywhere"),
        }
    }
}

impl ScopeSource {
    /// The scope `kind:id` in header `name`.
    pub fn header(name: &'static str) -> Self {
        ScopeSource::Header(HeaderName::from_static(name))
    }

    /// A scope of `kind` whose id is the path segment at `index`.
    ///
    /// # Panics
    /// When `kind` is not a valid scope kind (1–16 of `a-z 0-9 _ -`).
    pub fn path_segment(kind: &str, index: usize) -> Self {
        let kind = ScopeKind::new(kind).unwrap_or_else(|| panic!("invalid scope kind `{kind}`"));
        ScopeSource::PathSegment { index, kind }
    }

    /// A scope of `kind` whose id is the value of header `name`.
    ///
    /// # Panics
    /// When `kind` is not a valid scope kind.
    pub fn header_id(name: &'static str, kind: &str) -> Self {
        let kind = ScopeKind::new(kind).unwrap_or_else(|| panic!("invalid scope kind `{kind}`"));
        ScopeSource::HeaderId {
            name: HeaderName::from_static(name),
            kind,
        }
    }

    /// The scope a function of the request head returns (`None`: unreadable, refused).
    pub fn from_fn(f: impl Fn(&RequestHead<'_>) -> Option<Scope> + Send + Sync + 'static) -> Self {
        ScopeSource::Custom(Arc::new(f))
    }

    /// The scope of a request, if it can be read.
    pub fn read(&self, head: &RequestHead<'_>) -> Option<Scope> {
        match self {
            ScopeSource::Header(name) => {
                Scope::parse(head.headers.get(name)?.to_str().ok()?.trim())
            }
            ScopeSource::HeaderId { name, kind } => {
                let id = head.headers.get(name)?.to_str().ok()?.trim();
                Scope::of(*kind, id)
            }
            ScopeSource::PathSegment { index, kind } => {
                let segment = head
                    .uri
                    .path()
                    .trim_start_matches('/')
                    .split('/')
                    .nth(*index)?;
                Scope::of(*kind, segment)
            }
            ScopeSource::Custom(f) => f(head),
            ScopeSource::Anywhere => None,
        }
    }
}

/// The scope a request's requirement was checked in, put in the request extensions beside
/// the [`Principal`](rbac_core::Principal) by a scoped layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedScope(pub Scope);

#[cfg(test)]
mod tests {
    use super::*;

    fn head_of<'a>(req: &'a http::Request<()>) -> RequestHead<'a> {
        RequestHead {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            extensions: req.extensions(),
        }
    }

    #[test]
    fn each_source_reads_its_scope_or_nothing() {
        let req = http::Request::builder()
            .uri("/orgs/2/articles/%41")
            .header("x-scope", "desk:17")
            .header("x-org", "5")
            .header("x-tenant", " 5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f ")
            .body(())
            .expect("request");
        let head = head_of(&req);
        let org = |id: &str| Scope::new("org", id);
        assert_eq!(ScopeSource::path_segment("org", 1).read(&head), org("2"));
        assert_eq!(ScopeSource::path_segment("org", 0).read(&head), org("orgs"));
        assert_eq!(ScopeSource::path_segment("org", 5).read(&head), None);
        // A segment that is no scope id (here percent-encoded) is unreadable.
        assert_eq!(ScopeSource::path_segment("org", 3).read(&head), None);
        assert_eq!(
            ScopeSource::path_segment("desk", 2).read(&head),
            Scope::new("desk", "articles")
        );
        assert_eq!(
            ScopeSource::header("x-scope").read(&head),
            Scope::new("desk", 17)
        );
        assert_eq!(ScopeSource::header_id("x-org", "org").read(&head), org("5"));
        assert_eq!(ScopeSource::header("x-missing").read(&head), None);
        assert_eq!(
            ScopeSource::header_id("x-tenant", "tenant").read(&head),
            Scope::new("tenant", "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f")
        );
        let fixed = ScopeSource::from_fn(|h| {
            (h.method == http::Method::GET)
                .then(|| Scope::new("org", 9))
                .flatten()
        });
        assert_eq!(fixed.read(&head), org("9"));
    }
}
