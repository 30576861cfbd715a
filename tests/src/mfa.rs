//! Second factors as a user's authenticator app sees them: TOTP codes from the enrolled
//! secret, and enrolment through the platform surface.

use crate::*;

/// The TOTP code of the time step `offset` steps from now, for a base32 secret.
pub fn totp_now(secret: &str, offset: i64) -> String {
    let raw = rbac_core::factors::decode_totp_secret(secret)
        .unwrap_or_else(|| panic!("not a base32 TOTP secret: {secret}"));
    let step = rbac_core::factors::totp_step(rbac_core::now()) + offset;
    rbac_core::factors::totp_code(&raw, step)
}

/// A user's enrolled TOTP: the secret and the ten recovery codes.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The base32 secret.
    pub secret: String,
    /// The recovery codes, as shown once.
    pub recovery_codes: Vec<String>,
}

impl TestServer {
    /// Enrols TOTP for the token's user through the platform surface (codes asserted).
    pub async fn enrol_totp(&self, token: &str) -> Enrolled {
        let r = self
            .post("platform/mfa/totp/begin", &json!({}), Some(token))
            .await;
        let begun = expect_ok(&r, "mfa/totp/begin");
        let secret = begun["secret"].as_str().expect("secret").to_string();
        let r = self
            .post(
                "platform/mfa/totp/confirm",
                &json!({"code": totp_now(&secret, 0)}),
                Some(token),
            )
            .await;
        let confirmed = expect_ok(&r, "mfa/totp/confirm");
        let recovery_codes = confirmed["recovery_codes"]
            .as_array()
            .expect("recovery_codes")
            .iter()
            .map(|c| c.as_str().expect("code").to_string())
            .collect();
        Enrolled {
            secret,
            recovery_codes,
        }
    }

    /// Logs in with the password and expects code 1033; returns the challenge.
    pub async fn login_challenge(&self, name: &str, password: &str) -> String {
        let r = self
            .post("login", &json!({"name": name, "password": password}), None)
            .await;
        assert_eq!(r.0, 200, "login as {name}: {}", r.1);
        assert_eq!(
            code(&r.1),
            1033,
            "login as {name}: expected 1033, got {}",
            r.1
        );
        assert_eq!(
            r.1["header"]["message"], "CODE_SECOND_FACTOR_REQUIRED",
            "{}",
            r.1
        );
        r.1["data"]["mfa_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no data.mfa_token in {}", r.1))
            .to_string()
    }

    /// Logs in with the password and completes the challenge with `code` (code 0
    /// asserted); returns the token.
    pub async fn login_with_code(&self, name: &str, password: &str, code: &str) -> String {
        let challenge = self.login_challenge(name, password).await;
        let r = self
            .post(
                "login/mfa",
                &json!({"mfa_token": challenge, "code": code}),
                None,
            )
            .await;
        expect_ok(&r, &format!("login/mfa as {name}"))["auth_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login/mfa as {name}: no auth_token in {}", r.1))
            .to_string()
    }
}
