//! The OpenAPI document, through the real binary: it is OpenAPI 3.1; it lists exactly the
//! contract (every endpoint of the five seed documents, the extensions beyond them, the
//! operational routes and, when mounted, the bench routes); every operation it lists is mounted; no method it leaves out
//! is mounted on its paths; and `/docs` works with nothing fetched from elsewhere.

use std::collections::BTreeSet;

use serde_json::Value;
use tests::TestServer;

/// Every endpoint of the five API documents, as (method, path).
const CONTRACT: &[(&str, &str)] = &[
    // platform (seed 003)
    ("post", "/api/v1/login"),
    ("post", "/api/v1/platform/logout"),
    ("post", "/api/v1/platform/list/user"),
    ("post", "/api/v1/platform/create/user"),
    ("post", "/api/v1/platform/edit/user"),
    ("post", "/api/v1/platform/delete/user"),
    ("post", "/api/v1/platform/enable/user"),
    ("post", "/api/v1/platform/disable/user"),
    ("post", "/api/v1/platform/list/role"),
    ("post", "/api/v1/platform/create/role"),
    ("post", "/api/v1/platform/edit/role"),
    ("post", "/api/v1/platform/delete/role"),
    ("post", "/api/v1/platform/enable/role"),
    ("post", "/api/v1/platform/disable/role"),
    ("post", "/api/v1/platform/auth/role"),
    ("post", "/api/v1/platform/inquire/auth"),
    ("post", "/api/v1/platform/change/password"),
    ("post", "/api/v1/platform/reset/password"),
    ("post", "/api/v1/platform/list/role-user"),
    ("post", "/api/v1/platform/refresh/token"),
    ("post", "/api/v1/platform/list/oper-log"),
    // gateway (seed 002; login and logout are the platform's)
    ("post", "/api/v1/auth-code"),
    ("post", "/api/v1/register"),
    ("post", "/api/v1/project/list"),
    ("post", "/api/v1/project/create"),
    ("post", "/api/v1/project/delete"),
    ("get", "/rpc"),
    ("post", "/rpc"),
    ("put", "/rpc"),
    ("delete", "/rpc"),
    ("patch", "/rpc"),
    ("head", "/rpc"),
    ("options", "/rpc"),
    // cloud (seed 000)
    ("get", "/api/v1/platform/ping"),
    ("get", "/api/v1/platform/address"),
    ("post", "/api/v1/user/register"),
    ("post", "/api/v1/user/login"),
    ("get", "/api/v1/user/list"),
    // console (seed 001)
    ("post", "/casdao/api/v1.0/system/register/existence"),
    ("post", "/casdao/api/v1.0/system/register/sms/code"),
    ("post", "/casdao/api/v1.0/system/register/addition"),
    ("post", "/casdao/api/v1.0/system/user/addition"),
    ("post", "/casdao/api/v1.0/system/auth/login"),
    // IAM (seed 004)
    ("get", "/healthz"),
    ("post", "/login"),
    ("post", "/logout"),
    ("post", "/refresh"),
    ("post", "/v1/users"),
    ("get", "/v1/users"),
    ("delete", "/v1/users"),
    ("get", "/v1/users/{name}"),
    ("put", "/v1/users/{name}"),
    ("delete", "/v1/users/{name}"),
    ("put", "/v1/users/{name}/change-password"),
    ("put", "/v1/users/{name}/change_password"),
];

/// The operational routes every server mounts.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/metrics"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
];

/// Endpoints beyond the documents, in the platform's envelope.
const EXTENSIONS: &[(&str, &str)] = &[
    ("post", "/api/v1/platform/include/role"),
    ("post", "/api/v1/platform/assign/role"),
    ("post", "/api/v1/platform/revoke/role"),
    ("post", "/api/v1/platform/list/user-role"),
    // second factors
    ("post", "/api/v1/login/mfa"),
    ("post", "/api/v1/platform/mfa/totp/begin"),
    ("post", "/api/v1/platform/mfa/totp/confirm"),
    ("post", "/api/v1/platform/mfa/totp/remove"),
    ("post", "/api/v1/platform/mfa/recovery-codes"),
    ("post", "/api/v1/platform/inquire/mfa"),
    ("post", "/api/v1/platform/reset/mfa"),
    ("post", "/api/v1/platform/mfa/require/role"),
    ("post", "/api/v1/platform/mfa/verify"),
    // passkeys
    ("post", "/api/v1/login/passkey/begin"),
    ("post", "/api/v1/login/passkey"),
    ("post", "/api/v1/platform/mfa/passkey/begin"),
    ("post", "/api/v1/platform/mfa/passkey/finish"),
    ("post", "/api/v1/platform/mfa/passkey/list"),
    ("post", "/api/v1/platform/mfa/passkey/remove"),
    ("post", "/api/v1/platform/mfa/passkey/challenge"),
    ("post", "/api/v1/platform/list/webhook-delivery"),
    ("post", "/api/v1/user/login/mfa"),
    ("post", "/casdao/api/v1.0/system/auth/login/mfa"),
    ("post", "/login/mfa"),
    // sessions people can see and end
    ("post", "/api/v1/platform/list/session"),
    ("post", "/api/v1/platform/end/session"),
    ("get", "/v1/users/{name}/sessions"),
    ("delete", "/v1/users/{name}/sessions"),
    ("delete", "/v1/users/{name}/sessions/{id}"),
];

/// The load-test routes, mounted only with `--bench-routes`.
const BENCH: &[(&str, &str)] = &[
    ("get", "/bench/checked/users/{id}"),
    ("get", "/bench/open/users/{id}"),
    ("get", "/bench/sleep/{ms}"),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                ops.insert((method.to_string(), path.clone()));
            }
        }
    }
    ops
}

fn set(lists: &[&[(&str, &str)]]) -> BTreeSet<(String, String)> {
    lists
        .iter()
        .flat_map(|l| l.iter())
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

/// The path with every `{param}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{name}", "nobody-here")
        .replace("{id}", "1")
        .replace("{ms}", "1")
}

/// Whether an answer came from the router's fallback (no route matched), in any surface's
/// envelope.
fn unmatched(status: u16, body: &Value) -> bool {
    let text = body.to_string();
    status == 404 && (text.contains("no such endpoint") || text.contains("Page not found"))
}

async fn document(s: &TestServer) -> Value {
    let (status, doc) = s.request("GET", "/openapi.json", None).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

#[tokio::test]
async fn the_document_lists_exactly_the_mounted_routes() {
    let s = TestServer::start_with(&["--bench-routes"]).await;
    let doc = document(&s).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "OpenAPI 3.1: {}",
        doc["openapi"]
    );

    let documented = operations(&doc);
    let expected = set(&[CONTRACT, EXTENSIONS, OPERATIONS, BENCH]);
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the document: {missing:?}; documented beyond the contract: {extra:?}"
    );

    // Every documented operation is mounted: no fallback 404, no 405.
    for (method, path) in &documented {
        let r = s
            .send_with(
                &method.to_uppercase(),
                &concrete(path),
                &[("Content-Type", "application/json")],
                Some(b"{}".to_vec()),
            )
            .await;
        assert_ne!(r.0, 405, "{method} {path} is documented but not mounted");
        assert!(
            !unmatched(r.0, &r.1),
            "{method} {path} is documented but not mounted: {r:?}"
        );
    }

    // No method the document leaves out is mounted on a documented path.
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["get", "put", "post", "delete", "patch"] {
            if documented.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let r = s
                .send_with(&method.to_uppercase(), &concrete(path), &[], None)
                .await;
            assert_eq!(
                r.0, 405,
                "{method} {path} answers but is not documented: {r:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_bench_routes_are_documented_only_when_mounted() {
    let s = TestServer::start().await;
    let documented = operations(&document(&s).await);
    assert_eq!(documented, set(&[CONTRACT, EXTENSIONS, OPERATIONS]));
    let r = s.request("GET", "/bench/open/users/1", None).await;
    assert!(unmatched(r.0, &r.1), "{r:?}");
}

/// A schema, with a `$ref` to a component followed.
fn resolve(doc: &Value, schema: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            doc["components"]["schemas"][name].clone()
        }
        None => schema.clone(),
    }
}

#[tokio::test]
async fn every_operation_is_described_with_its_request_and_credentials() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let what = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: a summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| t.len() == 1),
                "{what}: one surface tag"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{what}: responses"
            );
            // Every credential an operation names is a declared scheme.
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().expect("requirement").keys() {
                    assert!(schemes.contains_key(scheme), "{what}: scheme {scheme}");
                }
            }
        }
    }

    // Request bodies come from the handlers' types: field names as the documents spell them.
    let body_fields = |path: &str, media: &str| -> BTreeSet<String> {
        let schema = &doc["paths"][path]["post"]["requestBody"]["content"][media]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().expect("ref name");
                &doc["components"]["schemas"][name]
            }
            None => schema,
        };
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        body_fields("/api/v1/platform/create/user", "application/json"),
        names(&[
            "user_name",
            "user_alias",
            "phone_number",
            "password",
            "remark",
            "role_name",
            "email"
        ])
    );
    assert_eq!(
        body_fields(
            "/casdao/api/v1.0/system/register/sms/code",
            "application/json"
        ),
        names(&["mobilePhone", "module", "origin", "departmentId"])
    );
    assert_eq!(
        body_fields(
            "/casdao/api/v1.0/system/register/existence",
            "application/x-www-form-urlencoded"
        ),
        names(&["username"])
    );
    assert_eq!(
        body_fields("/api/v1/register", "application/json"),
        names(&["user_name", "password", "email", "reg_code"])
    );

    // Answers come from the handlers' types too.
    let answer_fields = |method: &str, path: &str, pointer: &[&str]| -> BTreeSet<String> {
        let content = &doc["paths"][path][method]["responses"]["200"]["content"];
        let mut schema = resolve(&doc, &content["application/json"]["schema"]);
        for field in pointer {
            schema = resolve(&doc, &schema["properties"][*field]);
        }
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        answer_fields("post", "/api/v1/platform/list/user", &["header"]),
        names(&["code", "message", "total", "count"])
    );
    assert!(
        answer_fields("post", "/api/v1/login", &["data"]).contains("auth_token"),
        "platform login answers a token"
    );
    assert_eq!(
        answer_fields("post", "/api/v1/project/create", &["data"]),
        names(&["project_key", "project_secret"])
    );
    assert_eq!(
        answer_fields("get", "/v1/users/{name}", &["metadata"]),
        names(&["id", "name", "createdAt", "updatedAt"])
    );
    assert_eq!(
        answer_fields("post", "/casdao/api/v1.0/system/auth/login", &[]),
        names(&["code", "msg", "data"])
    );
    assert!(
        answer_fields("get", "/api/v1/user/list", &["data", "user"]).contains("userName"),
        "cloud user record"
    );

    // The privilege an operation requires is stated.
    let list_user = &doc["paths"]["/api/v1/platform/list/user"]["post"];
    assert!(
        list_user["description"]
            .as_str()
            .is_some_and(|d| d.contains("`UserAccess`")),
        "{list_user}"
    );
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let s = TestServer::start().await;
    let (status, html) = s.get_text("/docs/", &[]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("swagger-ui"), "{html}");
    // Everything the page loads is relative (no CDN) and served by the binary.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let value = &rest[..rest.find('"').expect("closing quote")];
            assets.push(value.to_string());
        }
    }
    assert!(assets.len() >= 3, "{assets:?}");
    for asset in &assets {
        assert!(
            !asset.starts_with("http") && !asset.starts_with("//"),
            "{asset} would be fetched from elsewhere"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let (status, body) = s.get_text(&path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.is_empty(), "{path}");
    }
    let (status, init) = s.get_text("/docs/swagger-initializer.js", &[]).await;
    assert_eq!(status, 200);
    assert!(init.contains("/openapi.json"), "{init}");
    // The bare path leads to the page.
    let r = s.request("GET", "/docs", None).await;
    assert!(r.0 == 200 || r.0 == 303 || r.0 == 308, "{r:?}");
}

/// Whether an answer is the surface's refusal for a missing privilege.
fn refused_for_privilege(tag: &str, r: &(u16, Value)) -> bool {
    match tag {
        "platform" | "gateway" => r.1["header"]["code"] == 1000,
        _ => r.0 == 403,
    }
}

#[tokio::test]
async fn each_operation_requires_exactly_the_privilege_it_names() {
    let s = TestServer::start_with(&["--bench-routes"]).await;
    let doc = document(&s).await;
    let admin = s.admin_token().await;
    let nobody = s.new_user(&admin, &[]).await;
    let mut holders: std::collections::BTreeMap<String, String> = Default::default();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let Some(privilege) = op["x-rbac-privilege"].as_str() else {
                continue;
            };
            let tag = op["tags"][0].as_str().unwrap_or_default().to_string();
            let holder = match holders.get(privilege) {
                Some(t) => t.clone(),
                None => {
                    let t = s.new_user(&admin, &[privilege]).await.token;
                    holders.insert(privilege.to_string(), t.clone());
                    t
                }
            };
            let call = |token: String| {
                let (method, path) = (method.to_uppercase(), concrete(path));
                let s = &s;
                async move {
                    let bearer = format!("Bearer {token}");
                    let headers = [
                        ("Content-Type", "application/json"),
                        ("Auth-Token", token.as_str()),
                        ("Authorization", bearer.as_str()),
                        ("X-Auth-Token", token.as_str()),
                    ];
                    s.send_with(&method, &path, &headers, Some(b"{}".to_vec()))
                        .await
                }
            };
            let without = call(nobody.token.clone()).await;
            assert!(
                refused_for_privilege(&tag, &without),
                "{method} {path} names {privilege} but lets a caller without it through: {without:?}"
            );
            let with = call(holder).await;
            assert!(
                !refused_for_privilege(&tag, &with),
                "{method} {path} names {privilege} but refuses a caller holding it: {with:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations name a privilege");
}
