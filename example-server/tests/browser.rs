//! The admin console in a real Chromium (Debian's, through chromedriver), scripted as
//! people use it, through the real binary. Runs when `RBAC_TEST_CHROMEDRIVER` is set
//! (`.ci/run` installs Chromium and sets it, on SQLite and on PostgreSQL).

use tests::fantoccini::{Client, Locator};
use tests::*;

/// The console's address as a browser uses it (`localhost`: the passkeys' relying party).
fn console(s: &TestServer, path: &str) -> String {
    format!("{}{path}", s.base_url().replace("127.0.0.1", "localhost"))
}

async fn path_of(browser: &Client) -> String {
    browser
        .current_url()
        .await
        .expect("the current URL")
        .path()
        .to_string()
}

async fn sign_in(browser: &Client, s: &TestServer, name: &str, password: &str) {
    browser
        .goto(&console(s, "/admin/login"))
        .await
        .expect("the sign-in page");
    fill(browser, "#name", name).await;
    fill(browser, "#password", password).await;
    click(browser, "form[action='/admin/login'] button[type=submit]").await;
}

#[tokio::test]
async fn signing_in_with_a_second_factor_and_being_signed_out_by_an_admin() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let u = s.new_user(&admin_token, &["UserAccess"]).await;
    let enrolled = s.enrol_totp(&u.token).await;

    // The admin signs in and lands on the overview.
    let admin = chrome.session().await;
    sign_in(&admin, &s, "admin", s.admin_password()).await;
    assert_eq!(
        path_of(&admin).await,
        "/admin",
        "{}",
        page_text(&admin).await
    );
    let text = page_text(&admin).await;
    assert!(
        text.contains("Overview") && text.contains("admin"),
        "{text}"
    );

    // The user, in a browser of their own, gives the password and then a TOTP code.
    let user = chrome.session().await;
    sign_in(&user, &s, &u.name, &u.password).await;
    assert_eq!(path_of(&user).await, "/admin/login");
    fill(&user, "#code", "000000").await;
    click(&user, "#mfa button[type=submit]").await;
    let text = page_text(&user).await;
    assert!(text.contains("That code is not right."), "{text}");
    fill(&user, "#code", &totp_now(&enrolled.secret, 1)).await;
    click(&user, "#mfa button[type=submit]").await;
    assert_eq!(path_of(&user).await, "/admin");
    assert!(page_text(&user).await.contains(&u.name));

    // A request forged without the form's CSRF token is refused; the session lives on.
    let status = user
        .execute(
            "return fetch('/admin/logout', {method: 'POST', \
             headers: {'content-type': 'application/x-www-form-urlencoded'}, body: ''})\
             .then(r => r.status)",
            vec![],
        )
        .await
        .expect("a forged logout");
    assert_eq!(status, json!(403));
    user.refresh().await.expect("reload");
    assert_eq!(path_of(&user).await, "/admin", "still signed in");

    // The admin ends the user's sessions from the users page: the user's next click lands
    // on the sign-in page.
    click(&admin, "nav a[href='/admin/users']").await;
    click(&admin, &format!("tr[data-user='{}'] a.sessions", u.name)).await;
    assert_eq!(path_of(&admin).await, "/admin/sessions");
    click(&admin, "#end-all").await;
    click(&user, "a.brand").await;
    assert_eq!(path_of(&user).await, "/admin/login");

    // The admin's own session is untouched; the language switch speaks Chinese.
    click(&admin, "a.lang").await;
    let text = page_text(&admin).await;
    assert!(text.contains("概览"), "{text}");
    click(&admin, "a.lang").await;
    assert!(page_text(&admin).await.contains("Overview"));

    user.close().await.expect("close");
    admin.close().await.expect("close");
}

#[tokio::test]
async fn markup_in_a_name_is_shown_as_text() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let s = TestServer::start().await;
    let b = chrome.session().await;
    let hostile = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
    sign_in(&b, &s, hostile, "wrong-password").await;
    let shown = b
        .find(Locator::Css("#name"))
        .await
        .expect("the name field")
        .prop("value")
        .await
        .expect("its value");
    assert_eq!(shown.as_deref(), Some(hostile), "kept as typed, as text");
    let pwned = b
        .execute("return window.pwned === undefined", vec![])
        .await
        .expect("script");
    assert_eq!(pwned, json!(true), "no markup of the name ran");
    b.close().await.expect("close");
}

#[tokio::test]
async fn an_admin_builds_a_role_and_its_user_sees_only_what_it_allows() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let s = TestServer::start().await;
    let admin = chrome.session().await;
    sign_in(&admin, &s, "admin", s.admin_password()).await;

    // A role with two privileges, through the matrix.
    let role = unique_name("desk");
    click(&admin, "nav a[href='/admin/roles']").await;
    fill(&admin, "#role-name", &role).await;
    click(&admin, "#create-role button[type=submit]").await;
    let row = format!("tr[data-role='{role}']");
    click_only(&admin, &format!("{row} input[value='UserAccess']")).await;
    click_only(&admin, &format!("{row} input[value='RoleAccess']")).await;
    click(
        &admin,
        &format!("{row} form[action='/admin/roles/grant'] button"),
    )
    .await;
    let checked = admin
        .execute(
            &format!(
                "return [...document.querySelectorAll(\"{row} input[type=checkbox]:checked\")]\
                 .map(b => b.value).sort()"
            ),
            vec![],
        )
        .await
        .expect("the ticked boxes");
    assert_eq!(checked, json!(["RoleAccess", "UserAccess"]));

    // A user holding it, through the users page.
    let (name, password) = (unique_name("clerk"), gen_password());
    click(&admin, "nav a[href='/admin/users']").await;
    fill(&admin, "#new-name", &name).await;
    fill(&admin, "#new-password", &password).await;
    admin
        .find(Locator::Css("#new-role"))
        .await
        .expect("the role select")
        .select_by_value(&role)
        .await
        .expect("choosing the role");
    click(&admin, "#create-user button[type=submit]").await;
    assert!(page_text(&admin).await.contains(&name));

    // The user, in a browser of its own, sees the lists but no action it lacks.
    let user = chrome.session().await;
    sign_in(&user, &s, &name, &password).await;
    click(&user, "nav a[href='/admin/users']").await;
    let offered = user
        .execute(
            "return {create: document.querySelector('#create-user fieldset').disabled, \
             enabled: [...document.querySelectorAll('td.actions button')]\
             .filter(b => !b.disabled).length}",
            vec![],
        )
        .await
        .expect("the offered actions");
    assert_eq!(offered, json!({"create": true, "enabled": 0}));
    // Forging the creation with the page's own CSRF token is refused.
    let status = user
        .execute(
            "const csrf = document.querySelector('#create-user input[name=csrf]').value; \
             return fetch('/admin/users/create', {method: 'POST', \
               headers: {'content-type': 'application/x-www-form-urlencoded'}, \
               body: new URLSearchParams({csrf, name: 'forged1', password: 'Forged-pass-1'})})\
             .then(r => r.status)",
            vec![],
        )
        .await
        .expect("a forged creation");
    assert_eq!(status, json!(403));
    let r = s
        .post(
            "login",
            &json!({"name": "forged1", "password": "Forged-pass-1"}),
            None,
        )
        .await;
    assert_ne!(code(&r.1), 0, "no user was created: {}", r.1);

    user.close().await.expect("close");
    admin.close().await.expect("close");
}

async fn sign_out(browser: &Client) {
    click(browser, "form[action='/admin/logout'] button").await;
    assert_eq!(path_of(browser).await, "/admin/login");
}

async fn second_step(browser: &Client, code: &str) {
    fill(browser, "#code", code).await;
    click(browser, "#mfa button[type=submit]").await;
}

#[tokio::test]
async fn a_user_enrols_totp_and_signs_in_with_it_and_with_a_recovery_code_once() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let u = s.new_user(&admin_token, &[]).await;
    let b = chrome.session().await;
    sign_in(&b, &s, &u.name, &u.password).await;
    click(&b, "nav a[href='/admin/account']").await;
    click(&b, "form[action='/admin/account/totp/begin'] button").await;
    let secret = b
        .find(Locator::Css("#totp-secret"))
        .await
        .expect("the secret, shown once")
        .text()
        .await
        .expect("its text");
    fill(&b, "#confirm-code", &totp_now(&secret, 0)).await;
    click(&b, "form[action='/admin/account/totp/confirm'] button").await;
    let codes = b
        .execute(
            "return [...document.querySelectorAll('#recovery-codes li code')].map(c => c.textContent)",
            vec![],
        )
        .await
        .expect("the recovery codes");
    let codes: Vec<String> = serde_json::from_value(codes).expect("codes");
    assert_eq!(codes.len(), 10, "{codes:?}");
    b.refresh().await.expect("reload");
    assert!(!page_text(&b).await.contains(&codes[0]), "shown once");

    // Signed out, the password then a code signs in.
    sign_out(&b).await;
    sign_in(&b, &s, &u.name, &u.password).await;
    second_step(&b, &totp_now(&secret, 1)).await;
    assert_eq!(path_of(&b).await, "/admin");
    // A recovery code works once.
    sign_out(&b).await;
    sign_in(&b, &s, &u.name, &u.password).await;
    second_step(&b, &codes[0]).await;
    assert_eq!(path_of(&b).await, "/admin");
    sign_out(&b).await;
    sign_in(&b, &s, &u.name, &u.password).await;
    second_step(&b, &codes[0]).await;
    assert!(page_text(&b).await.contains("That code is not right."));
    b.close().await.expect("close");
}

#[tokio::test]
async fn a_passkey_registered_in_the_browser_completes_the_sign_in_or_signs_in_alone() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let u = s.new_user(&admin_token, &[]).await;
    let b = chrome.session().await;
    add_virtual_authenticator(&b).await;
    sign_in(&b, &s, &u.name, &u.password).await;
    click(&b, "nav a[href='/admin/account']").await;
    b.find(Locator::Css("#passkey-name"))
        .await
        .expect("the name field")
        .clear()
        .await
        .expect("cleared");
    fill(&b, "#passkey-name", "virtual key").await;
    click_only(&b, "[data-register-passkey]").await;
    wait_for(&b, "li[data-passkey]").await;
    assert!(page_text(&b).await.contains("virtual key"));

    // Signed out, the password then the passkey signs in.
    sign_out(&b).await;
    sign_in(&b, &s, &u.name, &u.password).await;
    wait_for(&b, "[data-passkey-options]").await;
    click(&b, "[data-passkey-options]").await;
    assert_eq!(path_of(&b).await, "/admin", "{}", page_text(&b).await);
    let r = s
        .post(
            "platform/list/session",
            &json!({"user_name": u.name}),
            Some(&admin_token),
        )
        .await;
    let sessions = expect_ok(&r, "the user's sessions");
    assert!(
        sessions["sessions"].as_array().is_some_and(|rows| rows
            .iter()
            .any(|row| row["factors"] == json!(["password", "passkey"]))),
        "{sessions}"
    );

    // Signed out, the passkey alone signs in (a discoverable credential).
    sign_out(&b).await;
    wait_for(&b, "[data-passkey-sign-in]").await;
    click(&b, "[data-passkey-sign-in]").await;
    assert_eq!(path_of(&b).await, "/admin", "{}", page_text(&b).await);
    assert!(page_text(&b).await.contains(&u.name));
    b.close().await.expect("close");
}

/// axe-core's source (from the npm registry: `.ci/run` installs it and names it in
/// `RBAC_TEST_AXE`), injected by the test only.
fn axe_source() -> String {
    let path = std::env::var("RBAC_TEST_AXE").unwrap_or_else(|_| {
        panic!(
            "RBAC_TEST_AXE must name axe.min.js (npm install axe-core; .ci/run does) \
             when the browser suite runs"
        )
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The page's critical accessibility violations, as `rule: elements`.
async fn critical_violations(browser: &Client, axe: &str) -> Vec<String> {
    browser
        .execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .expect("injecting axe-core");
    let found = browser
        .execute(
            "return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations\
             .filter(v => v.impact === 'critical')\
             .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
            vec![],
        )
        .await
        .expect("running axe-core");
    serde_json::from_value(found).expect("violations")
}

#[tokio::test]
async fn no_page_has_a_critical_accessibility_violation() {
    let Some(chrome) = Chrome::start().await else {
        eprintln!("RBAC_TEST_CHROMEDRIVER is unset: the browser suite runs in .ci/run");
        return;
    };
    let axe = axe_source();
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let u = s.new_user(&admin_token, &[]).await;
    s.enrol_totp(&u.token).await;
    let b = chrome.session().await;
    let mut report = Vec::new();
    b.goto(&console(&s, "/admin/login"))
        .await
        .expect("sign-in page");
    report.extend(critical_violations(&b, &axe).await);
    sign_in(&b, &s, &u.name, &u.password).await;
    report.extend(critical_violations(&b, &axe).await);
    sign_in(&b, &s, "admin", s.admin_password()).await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/roles",
        "/admin/account",
        "/admin/log",
        "/admin/events",
        "/admin/projects",
        "/admin/step-up",
    ] {
        b.goto(&console(&s, path)).await.expect("a page");
        assert_eq!(path_of(&b).await, path);
        for v in critical_violations(&b, &axe).await {
            report.push(format!("{path}: {v}"));
        }
    }
    assert!(report.is_empty(), "critical violations: {report:#?}");
    b.close().await.expect("close");
}
