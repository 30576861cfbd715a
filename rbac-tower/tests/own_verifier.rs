//! An application's own verifier (here a client-certificate fingerprint, as an mTLS proxy
//! forwards it) plugs into the layer: the layer hands it the request's context, and the
//! privileges of the principal it returns are checked as any other's.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use http::{HeaderName, Request, Response, StatusCode};
use rbac_core::{
    Assignment, AuthFailure, Authenticate, Authorizer, Credential, Error, Journal, MemoryStore,
    Principal, Rbac, RequestContext, Role, SessionKind, User,
};
use rbac_tower::{ClientAddress, CredentialSource, RbacLayer};
use tower::{service_fn, Layer, ServiceExt};

/// What the verifier was asked about: (client address, path).
type Seen = Arc<Mutex<Vec<(Option<IpAddr>, String)>>>;

/// Fingerprints of known client certificates, each standing for one user.
struct Fingerprints {
    users: HashMap<String, (i64, String, i64)>,
    seen: Seen,
    /// Resolves a user's roles to what they confer.
    authorizer: Arc<Authorizer>,
}

#[async_trait]
impl Authenticate for Fingerprints {
    async fn authenticate(
        &self,
        credential: &Credential,
        context: &RequestContext<'_>,
    ) -> Result<Principal, Error> {
        self.seen
            .lock()
            .expect("seen")
            .push((context.address, context.path.to_string()));
        let Credential::Token(fingerprint) = credential else {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        };
        let (id, name, role) = self
            .users
            .get(fingerprint)
            .ok_or(Error::Unauthenticated(AuthFailure::Invalid))?;
        Ok(Principal {
            user_id: *id,
            user_name: Arc::from(name.as_str()),
            grants: self
                .authorizer
                .grants_for(&[Assignment::global(*role)])
                .await?,
            session_id: Arc::from(""),
            kind: SessionKind::Jwt,
            factors: rbac_core::factors::Factors::PASSWORD,
            verified_at: 0,
            enrolment_required: false,
            second_factor_enrolled: false,
        })
    }
}

/// A role holding `codes` and a user in it: (user id, name, role id).
async fn member(rbac: &Rbac, name: &str, codes: &[&str]) -> (i64, String, i64) {
    let mut role = Role::new(format!("{name}s"), "", "admin");
    role.privileges = codes.iter().map(|c| c.to_string()).collect();
    let store = rbac.store();
    let role = store
        .create_role(&role, &Journal::default())
        .await
        .expect("role");
    let mut user = User::blank(name, String::new());
    user.roles = vec![Assignment::global(role.id)];
    let user = store
        .create_user(&user, &Journal::default())
        .await
        .expect("user");
    (user.id, user.name, role.id)
}

async fn status(
    layer: &RbacLayer,
    fingerprint: Option<&str>,
    address: Option<IpAddr>,
) -> StatusCode {
    let inner = service_fn(|_req: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::from("published")))
    });
    let mut req = Request::post("/articles/publish")
        .body(String::new())
        .expect("request");
    if let Some(f) = fingerprint {
        req.headers_mut()
            .insert("x-client-cert", f.parse().expect("header"));
    }
    if let Some(a) = address {
        req.extensions_mut().insert(ClientAddress(a));
    }
    let resp = layer
        .clone()
        .layer(inner)
        .oneshot(req)
        .await
        .expect("infallible");
    resp.status()
}

#[tokio::test]
async fn an_own_verifier_plugs_into_the_layer_and_its_principals_are_checked() {
    let rbac = Rbac::builder(MemoryStore::new())
        .secret("the article service's own signing secret")
        .privileges(["ArticleRead", "ArticlePublish"])
        .build()
        .await
        .expect("rbac");
    let editor = member(&rbac, "editor", &["ArticleRead", "ArticlePublish"]).await;
    let reader = member(&rbac, "reader", &["ArticleRead"]).await;
    rbac.authorizer().load_roles().await.expect("roles");
    let seen = Seen::default();
    let verifier = Fingerprints {
        users: HashMap::from([("ab:cd".to_string(), editor), ("ef:01".to_string(), reader)]),
        seen: seen.clone(),
        authorizer: rbac.authorizer().clone(),
    };
    let layer = RbacLayer::new(&rbac)
        .authenticate_with(verifier)
        .sources([CredentialSource::Header(HeaderName::from_static(
            "x-client-cert",
        ))])
        .require("ArticlePublish");
    let client = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));

    assert_eq!(
        status(&layer, Some("ab:cd"), Some(client)).await,
        StatusCode::OK,
        "a known client holding the privilege"
    );
    assert_eq!(
        status(&layer, Some("ef:01"), None).await,
        StatusCode::FORBIDDEN,
        "a known client without the privilege"
    );
    assert_eq!(
        status(&layer, Some("99:99"), None).await,
        StatusCode::UNAUTHORIZED,
        "an unknown certificate"
    );
    assert_eq!(status(&layer, None, None).await, StatusCode::UNAUTHORIZED);
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(
        seen.first(),
        Some(&(Some(client), "/articles/publish".to_string())),
        "the verifier got the request's context"
    );
    assert_eq!(
        seen.len(),
        3,
        "without a credential the verifier is not asked"
    );
}
