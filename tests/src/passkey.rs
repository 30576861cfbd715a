//! A software passkey, as a browser and its authenticator use one: `passkey-client` (the
//! browser's WebAuthn API, origin checks included) over `passkey-authenticator` holding one
//! discoverable credential, speaking the JSON the server's options and answers use.

use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientData};
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::{webauthn, Passkey};

use crate::*;

/// A user who is present and verified (a touch and a PIN or a fingerprint) every time.
struct AlwaysVerified;

#[async_trait::async_trait]
impl UserValidationMethod for AlwaysVerified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: true,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

type SoftClient = Client<
    Option<Passkey>,
    AlwaysVerified,
    passkey_crypto::AvailableBackend,
    public_suffix::PublicSuffixList,
    (),
>;

/// An authenticator with one passkey slot, used from a browser at `origin`.
pub struct SoftKey {
    client: SoftClient,
    origin: url::Url,
}

impl SoftKey {
    /// An empty authenticator in a browser at `origin` (`http://localhost:PORT`).
    pub fn new(origin: &str) -> SoftKey {
        let authenticator = Authenticator::new(
            Aaguid::new_empty(),
            None,
            AlwaysVerified,
            passkey_crypto::AvailableBackend,
        );
        SoftKey {
            client: Client::new(authenticator).allows_insecure_localhost(true),
            origin: url::Url::parse(origin).expect("origin"),
        }
    }

    /// An authenticator in a browser on the test server's page (`localhost`).
    pub fn for_server(server: &TestServer) -> SoftKey {
        let port = url::Url::parse(server.base_url())
            .ok()
            .and_then(|u| u.port())
            .expect("the server's port");
        SoftKey::new(&format!("http://localhost:{port}"))
    }

    /// Sets the stored passkey's sign counter (a cloned authenticator lags behind).
    pub fn set_counter(&mut self, counter: u32) {
        let stored = self.client.authenticator_mut().store_mut();
        stored.as_mut().expect("a registered passkey").counter = Some(counter);
    }

    /// `navigator.credentials.create(options)`: the new credential as JSON.
    pub async fn register(&mut self, options: &Value) -> Value {
        let options: webauthn::CredentialCreationOptions =
            serde_json::from_value(options.clone()).expect("creation options");
        let created = self
            .client
            .register(&self.origin, options, DefaultClientData)
            .await
            .unwrap_or_else(|e| panic!("the authenticator refused to register: {e:?}"));
        serde_json::to_value(created).expect("credential")
    }

    /// `navigator.credentials.get(options)`: the assertion as JSON.
    pub async fn assert(&mut self, options: &Value) -> Value {
        let options: webauthn::CredentialRequestOptions =
            serde_json::from_value(options.clone()).expect("request options");
        let asserted = self
            .client
            .authenticate(&self.origin, options, DefaultClientData)
            .await
            .unwrap_or_else(|e| panic!("the authenticator refused to assert: {e:?}"));
        serde_json::to_value(asserted).expect("assertion")
    }

    /// The stored passkey as JSON, private key included (a fixture carries it to a later
    /// server, as a user's device keeps its passkey across the server's upgrades).
    pub fn export(&self) -> Value {
        use coset::CborSerializable as _;
        let stored = self
            .client
            .authenticator()
            .store()
            .clone()
            .expect("a registered passkey");
        json!({
            "key": hex::encode(stored.key.clone().to_vec().expect("the key as CBOR")),
            "credential_id": hex::encode(&*stored.credential_id),
            "rp_id": stored.rp_id,
            "user_handle": stored.user_handle.as_ref().map(|h| hex::encode(&**h)),
            "username": stored.username,
            "user_display_name": stored.user_display_name,
            "counter": stored.counter,
        })
    }

    /// An authenticator at `origin` holding the passkey [`export`](Self::export) gave.
    pub fn import(origin: &str, exported: &Value) -> SoftKey {
        use coset::CborSerializable as _;
        let bytes = |field: &str| -> Vec<u8> {
            hex::decode(exported[field].as_str().unwrap_or_default()).expect("hex")
        };
        let passkey = Passkey {
            key: coset::CoseKey::from_slice(&bytes("key")).expect("a COSE key"),
            credential_id: bytes("credential_id").into(),
            rp_id: exported["rp_id"].as_str().unwrap_or_default().to_string(),
            user_handle: exported["user_handle"]
                .as_str()
                .map(|h| hex::decode(h).expect("hex").into()),
            username: exported["username"].as_str().map(str::to_string),
            user_display_name: exported["user_display_name"].as_str().map(str::to_string),
            counter: exported["counter"].as_u64().map(|c| c as u32),
            extensions: Default::default(),
        };
        let mut key = SoftKey::new(origin);
        *key.client.authenticator_mut().store_mut() = Some(passkey);
        key
    }
}

impl TestServer {
    /// Registers the key's passkey for the token's user as `name` through the platform
    /// surface (codes asserted); returns the listed passkey.
    pub async fn register_passkey(&self, token: &str, key: &mut SoftKey, name: &str) -> Value {
        let r = self
            .post("platform/mfa/passkey/begin", &json!({}), Some(token))
            .await;
        let begun = expect_ok(&r, "mfa/passkey/begin");
        let credential = key.register(&begun["options"]).await;
        let r = self
            .post(
                "platform/mfa/passkey/finish",
                &json!({
                    "passkey_token": begun["passkey_token"],
                    "name": name,
                    "credential": credential,
                }),
                Some(token),
            )
            .await;
        expect_ok(&r, "mfa/passkey/finish").clone()
    }

    /// Logs `user` in with the password and completes the challenge with the key's
    /// passkey (codes asserted); returns the token.
    pub async fn login_with_passkey_step(&self, user: &TestUser, key: &mut SoftKey) -> String {
        let r = self
            .post(
                "login",
                &json!({"name": user.name, "password": user.password}),
                None,
            )
            .await;
        assert_eq!(
            (r.0, code(&r.1)),
            (200, 1033),
            "login of a user with a passkey: {}",
            r.1
        );
        let data = &r.1["data"];
        let assertion = key.assert(&data["passkey"]).await;
        let r = self
            .post(
                "login/mfa",
                &json!({"mfa_token": data["mfa_token"], "passkey": assertion}),
                None,
            )
            .await;
        expect_ok(&r, "login/mfa with a passkey")["auth_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no auth_token in {}", r.1))
            .to_string()
    }
}
