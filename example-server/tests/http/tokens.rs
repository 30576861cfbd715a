//! Token attacks beyond the forged/expired/`alg: none` set of platform_auth.rs: other
//! algorithms with the right secret, a tampered header, not-yet-valid tokens, a deleted
//! user's token, a rotated refresh token reused, and signing-key rotation across restarts.

use tests::*;

async fn list_users(srv: &TestServer, token: &str) -> (u16, Value) {
    srv.post("platform/list/user", &json!({}), Some(token))
        .await
}

#[tokio::test]
async fn other_algorithms_tampered_headers_and_future_tokens_are_refused() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let (header, claims) = jwt_parts(&token);
    let secret = srv.jwt_secret().as_bytes();

    for alg in ["HS384", "HS512"] {
        let mut h = header.clone();
        h["alg"] = json!(alg);
        let forged = sign_jwt(&h, &claims, secret);
        expect_unauthorized(
            &list_users(&srv, &forged).await,
            &format!("{alg}, right secret"),
        );
    }

    // A header naming a key the server does not have, signed with the right secret.
    let mut h = header.clone();
    h["kid"] = json!("unknown-key");
    let forged = sign_jwt(&h, &claims, secret);
    expect_unauthorized(&list_users(&srv, &forged).await, "unknown kid");

    // Tampered header, original signature: the signature covers the header.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut h = header.clone();
    h["typ"] = json!("JWS");
    parts[0] = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.to_string())
    };
    expect_unauthorized(&list_users(&srv, &parts.join(".")).await, "tampered header");

    // Not yet valid: nbf and iat an hour ahead, signed with the right secret.
    let mut future = claims.clone();
    let later = unix_now() + 3600;
    future["nbf"] = json!(later);
    future["iat"] = json!(later);
    future["exp"] = json!(later + 3600);
    let early = sign_jwt(&header, &future, secret);
    expect_unauthorized(&list_users(&srv, &early).await, "not yet valid");

    // Another user's id in a genuine session's claims.
    let mut other = claims.clone();
    other["sub"] = json!("999999");
    let swapped = sign_jwt(&header, &other, secret);
    expect_unauthorized(&list_users(&srv, &swapped).await, "sub swapped");

    expect_ok(
        &list_users(&srv, &token).await,
        "the genuine token still works",
    );
}

#[tokio::test]
async fn a_deleted_users_token_and_a_reused_refresh_are_refused() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    expect_ok(&list_users(&srv, &u.token).await, "before delete");
    expect_ok(
        &srv.post(
            "platform/delete/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await,
        "delete",
    );
    expect_unauthorized(&list_users(&srv, &u.token).await, "a deleted user's token");

    // Refresh rotates: the old token is dead, and so is refreshing with it again.
    let v = srv.new_user(&admin, &["UserAccess"]).await;
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&v.token))
        .await;
    let fresh = expect_ok(&r, "refresh")["auth_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no auth_token in {}", r.1))
        .to_string();
    let again = srv
        .post("platform/refresh/token", &json!({}), Some(&v.token))
        .await;
    expect_unauthorized(&again, "refresh with the rotated-out token");
    expect_ok(&list_users(&srv, &fresh).await, "the new token");
}

#[tokio::test]
async fn signing_keys_rotate_across_restarts() {
    let first = TestServer::start().await;
    let old_token = first.admin_token().await;
    let old_secret = first.jwt_secret().to_string();
    let new_secret = format!(
        "rotated-signing-key-{}-{}",
        unique_name("k"),
        unique_name("k")
    );
    let previous = old_secret.clone();

    // Restart with a new key, keeping the old one for verification only.
    let second = first
        .start_sharing(&[
            "--jwt-secret",
            &new_secret,
            "--jwt-previous-secrets",
            &previous,
        ])
        .await;
    expect_ok(
        &list_users(&second, &old_token).await,
        "an old token stays valid while its key is listed",
    );
    let new_token = second.admin_token().await;
    let (old_header, _) = jwt_parts(&old_token);
    let (new_header, _) = jwt_parts(&new_token);
    assert_ne!(
        old_header["kid"], new_header["kid"],
        "new tokens name the new key"
    );
    expect_ok(&list_users(&second, &new_token).await, "a new token");
    drop(second);

    // Restart with only the new key: old tokens die, new ones live.
    let third = first.start_sharing(&["--jwt-secret", &new_secret]).await;
    expect_unauthorized(
        &list_users(&third, &old_token).await,
        "an old token once its key is dropped",
    );
    expect_ok(
        &list_users(&third, &new_token).await,
        "a new token after the drop",
    );
}
