//! Generated request bodies against every endpoint that takes one (platform, gateway,
//! cloud, IAM, console), as the admin (so the bodies reach the handlers): arbitrary JSON, and objects with each endpoint's real field
//! names holding values of random types. Never a 5xx; the server stays up.

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use tests::*;

/// (method, path, field names the endpoint reads). Logout and refresh are left out: they
/// would end the admin's session the rest of the run relies on.
const ENDPOINTS: &[(&str, &str, &[&str])] = &[
    ("POST", "login", &["name", "user_name", "password"]),
    (
        "POST",
        "platform/list/user",
        &["page_no", "page_size", "name"],
    ),
    (
        "POST",
        "platform/create/user",
        &[
            "user_name",
            "user_alias",
            "password",
            "phone_number",
            "email",
            "role_name",
            "remark",
            "user_did",
        ],
    ),
    (
        "POST",
        "platform/edit/user",
        &[
            "user_name",
            "user_alias",
            "password",
            "phone_number",
            "email",
            "role_name",
            "remark",
        ],
    ),
    ("POST", "platform/delete/user", &["user_name"]),
    ("POST", "platform/enable/user", &["user_name"]),
    ("POST", "platform/disable/user", &["user_name"]),
    ("POST", "platform/list/role", &["page_no", "page_size"]),
    ("POST", "platform/create/role", &["role_name", "remark"]),
    (
        "POST",
        "platform/edit/role",
        &["role_name", "new_role_name", "remark"],
    ),
    ("POST", "platform/delete/role", &["role_name"]),
    ("POST", "platform/enable/role", &["role_name"]),
    ("POST", "platform/disable/role", &["role_name"]),
    ("POST", "platform/auth/role", &["role_name", "privilege"]),
    ("POST", "platform/inquire/auth", &["name", "name_type"]),
    (
        "POST",
        "platform/change/password",
        &["old_password", "new_password"],
    ),
    (
        "POST",
        "platform/reset/password",
        &["user_name", "new_password"],
    ),
    (
        "POST",
        "platform/list/role-user",
        &["role_name", "page_no", "page_size"],
    ),
    (
        "POST",
        "platform/list/oper-log",
        &[
            "user_name",
            "oper_type",
            "start_time",
            "end_time",
            "page_no",
            "page_size",
        ],
    ),
    ("POST", "auth-code", &["user_name", "email"]),
    (
        "POST",
        "register",
        &["user_name", "password", "email", "reg_code"],
    ),
    ("POST", "project/list", &["user_id", "page_no", "page_size"]),
    ("POST", "project/create", &["project_type", "project_name"]),
    ("POST", "project/delete", &["id"]),
    ("POST", "user/register", &["username", "password"]),
    ("POST", "user/login", &["username", "password"]),
    ("POST", "/login", &["username", "password"]),
    (
        "POST",
        "/v1/users",
        &["metadata", "nickname", "password", "email", "phone"],
    ),
    (
        "PUT",
        "/v1/users/fuzz-target",
        &["metadata", "nickname", "email", "phone"],
    ),
    (
        "PUT",
        "/v1/users/fuzz-target/change-password",
        &["oldPassword", "newPassword"],
    ),
    (
        "POST",
        "/casdao/api/v1.0/system/register/existence",
        &["username"],
    ),
    (
        "POST",
        "/casdao/api/v1.0/system/register/sms/code",
        &["mobilePhone", "module", "origin", "departmentId"],
    ),
    (
        "POST",
        "/casdao/api/v1.0/system/register/addition",
        &[
            "roleId",
            "roleCategory",
            "username",
            "password",
            "confirmPassword",
            "mobilePhone",
            "code",
            "departmentId",
            "origin",
        ],
    ),
    (
        "POST",
        "/casdao/api/v1.0/system/user/addition",
        &[
            "roleId",
            "roleCategory",
            "username",
            "password",
            "mobilePhone",
            "departmentId",
            "departmentName",
            "origin",
            "parentId",
            "clusterAccounts",
            "status",
            "notify",
            "module",
            "name",
            "telephone",
            "email",
            "organization",
            "duty",
            "enterprise",
        ],
    ),
    (
        "POST",
        "/casdao/api/v1.0/system/auth/login",
        &["username", "password", "source", "departmentId"],
    ),
];

/// Any JSON value, a few levels deep, with strings that like to break things.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("root".to_string()),
            Just("' OR 1=1 --".to_string()),
            Just("\u{0}".to_string()),
            Just("%00%ff".to_string()),
            Just("a".repeat(300)),
            Just("{\"nested\": true}".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An endpoint and a body: arbitrary JSON, or the endpoint's own fields with random values.
fn case() -> impl Strategy<Value = (usize, Value)> {
    (0..ENDPOINTS.len()).prop_flat_map(|i| {
        let fields = ENDPOINTS[i].2;
        let shaped = proptest::collection::vec(
            (proptest::sample::select(fields.to_vec()), json_value()),
            0..fields.len() + 1,
        )
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        });
        (Just(i), prop_oneof![json_value(), shaped])
    })
}

/// Sends `body` to an endpoint as the admin, with the credentials its surface reads.
async fn send(
    srv: &TestServer,
    admin: &str,
    iam: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let bytes = body.to_string().into_bytes();
    if path.starts_with("/casdao/") {
        srv.send_with(
            method,
            path,
            &[JSON_CT, ("X-Auth-Token", admin)],
            Some(bytes),
        )
        .await
    } else if path.starts_with('/') {
        srv.iam_raw(method, path, Auth::Bearer(iam), Some(bytes), true)
            .await
    } else {
        let bearer = format!("Bearer {admin}");
        srv.send_with(
            method,
            path,
            &[
                JSON_CT,
                ("Auth-Token", admin),
                ("Authorization", bearer.as_str()),
            ],
            Some(bytes),
        )
        .await
    }
}

/// NUL characters in every field of every endpoint, and in the IAM path's name: a clear
/// refusal or an answer, never a 5xx (PostgreSQL text cannot hold NUL; the store says so
/// as bad input).
#[tokio::test]
async fn nul_characters_never_get_a_5xx() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let iam = srv.iam_admin_token().await;
    for (method, path, fields) in ENDPOINTS {
        for text in ["\u{0}", "a\u{0}b"] {
            let body = Value::Object(
                fields
                    .iter()
                    .map(|f| (f.to_string(), Value::String(text.to_string())))
                    .collect(),
            );
            let r = send(&srv, &admin, &iam, method, path, &body).await;
            assert!(
                r.0 < 500,
                "{method} {path} with {body}: HTTP {} {}",
                r.0,
                r.1
            );
        }
    }
    for method in ["GET", "PUT", "DELETE"] {
        let r = srv
            .iam_raw(
                method,
                "/v1/users/a%00b",
                Auth::Bearer(&iam),
                Some(b"{}".to_vec()),
                true,
            )
            .await;
        assert!(r.0 < 500, "{method} /v1/users/a%00b: HTTP {} {}", r.0, r.1);
    }
    let r = srv
        .send_with(
            "POST",
            "/casdao/api/v1.0/system/register/existence",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(b"username=a%00b".to_vec()),
        )
        .await;
    assert!(r.0 < 500, "existence with a NUL: HTTP {} {}", r.0, r.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_never_get_a_5xx() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    // Targets for the per-user IAM paths.
    srv.create_user(&admin, "fuzz-target", &gen_password(), None)
        .await;
    let iam = srv.iam_admin_token().await;

    let mut runner = TestRunner::new(PropConfig {
        cases: 600,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let cases: Vec<(usize, Value)> = (0..600)
        .map(|_| {
            case()
                .new_tree(&mut runner)
                .map(|t| proptest::strategy::ValueTree::current(&t))
                .expect("a generated case")
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for (i, body) in cases {
        let (method, path, _) = ENDPOINTS[i];
        let r = send(&srv, &admin, &iam, method, path, &body).await;
        *statuses.entry(r.0).or_default() += 1;
        assert!(
            r.0 < 500,
            "{method} {path} with {body}: HTTP {} {}",
            r.0,
            r.1
        );
    }
    eprintln!("statuses over 600 generated requests: {statuses:?}");
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
}
