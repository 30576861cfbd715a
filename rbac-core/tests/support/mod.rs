//! What the adopter-facing tests share: a hasher cheap enough for tests, and a signed-in
//! principal.

use rbac_core::service::{LoginInput, LoginStep};
use rbac_core::{HasherConfig, Principal, Rbac, RbacConfig};

/// Settings with a hasher that costs microseconds (the tests count logins, not hashes).
pub fn fast() -> RbacConfig {
    RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        ..RbacConfig::default()
    }
}

/// `name` signed in with `password` from loopback, as the principal its token stands for.
pub async fn signed_in(rbac: &Rbac, name: &str, password: &str) -> Principal {
    let login = rbac
        .sessions()
        .login(&LoginInput::new(name, password, "127.0.0.1"))
        .await
        .and_then(LoginStep::signed_in)
        .unwrap_or_else(|e| panic!("{name} signs in: {e}"));
    rbac.authorizer()
        .authenticate_token(&login.token.token)
        .await
        .unwrap_or_else(|e| panic!("{name}'s token: {e}"))
}
