//! An adopter's service written from the README: a clinic with its own codes (RecordRead,
//! RecordWrite, RecordSign, WardAdmin), roles that include roles (nurse ⊂ doctor ⊂
//! attending), a ward administrator, wards named by the path (`ward:cardiology`) under
//! hospitals (`hospital:st-anne`), on SQLite. Its tests: a doctor of one ward writes only there, a revocation acts on the next
//! request, a ward administrator cannot hand out a role stronger than its own, and a role
//! requiring a second factor refuses its members' password-only sessions.
//!
//! `cargo run -p rbac-tower --features axum --example clinic`, then follow what it prints.

use axum::routing::{get, post};
use axum::Router;
use rbac_core::service::{LoginInput, UserInput};
use rbac_core::{AdminPrivileges, Rbac, Scope};
use rbac_tower::{RbacLayer, ScopeSource};

/// The clinic: the services with its codes and roles, and its routes, each record route
/// checked in the ward its path names.
async fn clinic(
    database: &str,
    key_file: &std::path::Path,
) -> Result<(Rbac, Router), rbac_core::BoxError> {
    let store = rbac_sqlx::SqlStore::connect(database).await?;
    store.migrate().await?;
    let rbac = Rbac::builder(store)
        .secret("the clinic's own signing secret, 32+ bytes")
        .privileges(["RecordRead", "RecordWrite", "RecordSign", "WardAdmin"])
        .admin_privileges(AdminPrivileges::all("WardAdmin"))
        .scope_kinds(["hospital", "ward"])
        .secrets_key_file(key_file)
        .role("nurse", ["RecordRead"])
        .role_including("doctor", ["RecordWrite"], ["nurse"])
        .role_including("attending", ["RecordSign"], ["doctor"])
        .role_including("ward-admin", ["WardAdmin"], ["doctor"])
        .build()
        .await?;
    let ward = ScopeSource::path_segment("ward", 1);
    let layer = RbacLayer::new(&rbac).in_scope(ward);
    let read = get(read_records).layer(layer.clone().require("RecordRead"));
    let write = post(write_record).layer(layer.clone().require("RecordWrite"));
    let sign = post(sign_record).layer(layer.require("RecordSign"));
    let app = Router::new()
        .route("/wards/{ward}/records", read.merge(write))
        .route("/wards/{ward}/sign", sign);
    Ok((rbac, app))
}

async fn read_records() -> &'static str {
    "records"
}

async fn write_record() -> &'static str {
    "written"
}

async fn sign_record() -> &'static str {
    "signed"
}

/// The hospital of St Anne's.
fn st_anne() -> Result<Scope, rbac_core::BoxError> {
    Ok(Scope::new("hospital", "st-anne").ok_or("hospital scope")?)
}

/// The ward `name` within `hospital` (set up once per ward).
async fn ward(rbac: &Rbac, name: &str, hospital: Scope) -> Result<Scope, rbac_core::BoxError> {
    let ward = Scope::new("ward", name).ok_or("ward scope")?;
    rbac.assignments()
        .set_scope_parent(ward, Some(hospital))
        .await?;
    Ok(ward)
}

/// A new staff member holding `role` within `scope`; their name and password.
async fn staff(
    rbac: &Rbac,
    name: &str,
    role: &str,
    scope: Scope,
) -> Result<(String, String), rbac_core::BoxError> {
    let system = rbac.system().await?;
    let password = format!("{name}-Password-1");
    let input = UserInput {
        name: name.into(),
        password: password.clone(),
        ..UserInput::default()
    };
    rbac.users().create(Some(&system), input).await?;
    rbac.assignments()
        .assign(&system, name, role, Some(scope))
        .await?;
    Ok((name.to_string(), password))
}

/// Signs in with the password alone; the token (a second factor pending is an error).
async fn sign_in(rbac: &Rbac, name: &str, password: &str) -> Result<String, rbac_core::BoxError> {
    let step = rbac
        .sessions()
        .login(&LoginInput::new(name, password, "127.0.0.1"))
        .await?;
    Ok(step.signed_in()?.token.token)
}

#[tokio::main]
async fn main() -> Result<(), rbac_core::BoxError> {
    let (rbac, app) = clinic(
        "sqlite://clinic.db?mode=rwc",
        std::path::Path::new("clinic.key"),
    )
    .await?;
    let cardiology = ward(&rbac, "cardiology", st_anne()?).await?;
    ward(&rbac, "oncology", st_anne()?).await?;
    let (name, password) = match staff(&rbac, "dr-house", "doctor", cardiology).await {
        Ok(creds) => creds,
        Err(_) => ("dr-house".to_string(), "dr-house-Password-1".to_string()),
    };
    let token = sign_in(&rbac, &name, &password).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000");
    println!(
        "curl -X POST localhost:3000/wards/cardiology/records -H 'Authorization: Bearer {token}'  # 200"
    );
    println!(
        "curl -X POST localhost:3000/wards/oncology/records -H 'Authorization: Bearer {token}'  # 403"
    );
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn status(app: &Router, method: &str, path: &str, token: &str) -> StatusCode {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        app.clone().oneshot(req).await.expect("infallible").status()
    }

    /// A database and key file under the temp dir, removed when dropped.
    struct Files(std::path::PathBuf);

    impl Files {
        fn new() -> Files {
            let dir = std::env::temp_dir().join(format!(
                "rbac-clinic-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&dir).expect("dir");
            Files(dir)
        }

        fn database(&self) -> String {
            format!("sqlite://{}?mode=rwc", self.0.join("clinic.db").display())
        }

        fn key(&self) -> std::path::PathBuf {
            self.0.join("clinic.key")
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn a_doctor_writes_in_its_ward_and_loses_it_on_the_next_request() {
        let files = Files::new();
        let (rbac, app) = clinic(&files.database(), &files.key())
            .await
            .expect("clinic");
        let hospital = st_anne().expect("hospital");
        let (cardiology, oncology) = (
            ward(&rbac, "cardiology", hospital).await.expect("ward"),
            ward(&rbac, "oncology", hospital).await.expect("ward"),
        );
        let (name, password) = staff(&rbac, "house", "doctor", cardiology)
            .await
            .expect("staff");
        let token = sign_in(&rbac, &name, &password).await.expect("sign in");
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/records", &token).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&app, "GET", "/wards/cardiology/records", &token).await,
            StatusCode::OK,
            "doctor includes nurse"
        );
        assert_eq!(
            status(&app, "POST", "/wards/oncology/records", &token).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/sign", &token).await,
            StatusCode::FORBIDDEN,
            "signing is the attending's"
        );
        // Revoked: the very next request is refused, the oncology assignment then allowed.
        let system = rbac.system().await.expect("system");
        rbac.assignments()
            .revoke(&system, &name, "doctor", Some(cardiology))
            .await
            .expect("revoke");
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/records", &token).await,
            StatusCode::FORBIDDEN
        );
        rbac.assignments()
            .assign(&system, &name, "doctor", Some(oncology))
            .await
            .expect("assign");
        assert_eq!(
            status(&app, "POST", "/wards/oncology/records", &token).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_nurse_of_the_hospital_reads_each_of_its_wards_and_no_other() {
        let files = Files::new();
        let (rbac, app) = clinic(&files.database(), &files.key())
            .await
            .expect("clinic");
        let hospital = st_anne().expect("hospital");
        ward(&rbac, "cardiology", hospital).await.expect("ward");
        ward(&rbac, "oncology", hospital).await.expect("ward");
        let elsewhere = Scope::new("hospital", "st-bart").expect("hospital");
        ward(&rbac, "icu", elsewhere).await.expect("ward");
        let (name, password) = staff(&rbac, "hathaway", "nurse", hospital)
            .await
            .expect("staff");
        let token = sign_in(&rbac, &name, &password).await.expect("sign in");
        for within in ["/wards/cardiology/records", "/wards/oncology/records"] {
            assert_eq!(status(&app, "GET", within, &token).await, StatusCode::OK);
        }
        for outside in [
            "/wards/icu/records",
            "/wards/Cardiology/records",
            "/wards/no%20ward/records",
        ] {
            assert_eq!(
                status(&app, "GET", outside, &token).await,
                StatusCode::FORBIDDEN,
                "{outside}"
            );
        }
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/records", &token).await,
            StatusCode::FORBIDDEN,
            "a nurse reads, and writes nowhere"
        );
    }

    #[tokio::test]
    async fn a_ward_administrator_hands_out_no_stronger_role() {
        let files = Files::new();
        let (rbac, _) = clinic(&files.database(), &files.key())
            .await
            .expect("clinic");
        let cardiology = ward(&rbac, "cardiology", st_anne().expect("hospital"))
            .await
            .expect("ward");
        let (name, password) = staff(&rbac, "cuddy", "ward-admin", cardiology)
            .await
            .expect("admin");
        let token = sign_in(&rbac, &name, &password).await.expect("sign in");
        let cuddy = rbac
            .authorizer()
            .authenticate_token(&token)
            .await
            .expect("principal");
        let system = rbac.system().await.expect("system");
        let input = UserInput {
            name: "wilson".into(),
            password: "wilson-Password-1".into(),
            ..UserInput::default()
        };
        rbac.users()
            .create(Some(&system), input)
            .await
            .expect("user");
        // The attending role signs, which the ward administrator cannot: refused.
        let refused = rbac
            .assignments()
            .assign(&cuddy, "wilson", "attending", Some(cardiology))
            .await;
        assert!(
            matches!(refused, Err(rbac_core::Error::Outranked { .. })),
            "a stronger role: {refused:?}"
        );
        // A doctor's role lies within: the control.
        rbac.assignments()
            .assign(&cuddy, "wilson", "doctor", Some(cardiology))
            .await
            .expect("within");
    }

    #[tokio::test]
    async fn a_role_requiring_a_second_factor_refuses_password_only_sessions() {
        let files = Files::new();
        let (rbac, app) = clinic(&files.database(), &files.key())
            .await
            .expect("clinic");
        let cardiology = ward(&rbac, "cardiology", st_anne().expect("hospital"))
            .await
            .expect("ward");
        let (attending, pw) = staff(&rbac, "foreman", "attending", cardiology)
            .await
            .expect("staff");
        let (doctor, doctor_pw) = staff(&rbac, "chase", "doctor", cardiology)
            .await
            .expect("staff");
        let before = sign_in(&rbac, &attending, &pw)
            .await
            .expect("password only");
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/sign", &before).await,
            StatusCode::OK,
            "before the rule, the attending signs"
        );
        let system = rbac.system().await.expect("system");
        rbac.roles()
            .require_second_factor(&system, "attending", true)
            .await
            .expect("require");
        let token = sign_in(&rbac, &attending, &pw)
            .await
            .expect("password only");
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/sign", &token).await,
            StatusCode::FORBIDDEN,
            "enrol first"
        );
        // The doctor's role asks nothing more: the control.
        let token = sign_in(&rbac, &doctor, &doctor_pw).await.expect("doctor");
        assert_eq!(
            status(&app, "POST", "/wards/cardiology/records", &token).await,
            StatusCode::OK
        );
    }
}
