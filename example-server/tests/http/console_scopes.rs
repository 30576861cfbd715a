//! Console organisations as scopes: a primary account's role holds within its
//! organisation, its sub-accounts' roles in the same one; platform's `role_name` shows
//! global roles only, `list/user-role` the scoped ones; and an account from before scopes
//! (its console role held globally) is moved into its organisation when a server starts.

use tests::*;

use crate::console_support;
use console_support::*;

async fn roles_of(s: &TestServer, admin: &str, user: &str) -> Vec<Value> {
    let r = s
        .post(
            "platform/list/user-role",
            &json!({"user_name": user}),
            Some(admin),
        )
        .await;
    expect_ok(&r, "list/user-role")["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn console_roles_hold_within_the_organisation() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let admin = s.admin_token().await;
    let (primary, password, _) = register(&s, &hook, 2).await;
    assert_eq!(
        roles_of(&s, &admin, &primary).await,
        vec![json!({"role_name": "console-primary", "scope": "org:2"})]
    );
    let shown = s.find_user(&admin, &primary).await.expect("listed");
    assert_eq!(
        shown["role_name"],
        json!(""),
        "platform shows global roles only"
    );
    let r = s
        .post(
            "platform/inquire/auth",
            &json!({"name": primary, "name_type": 0, "scope": "org:2"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        privileges_of(&expect_ok(&r, "inquire in org:2")["privilege"]),
        sorted(&["SubAccountAdd"])
    );
    assert_eq!(s.inquire(&admin, &primary, 0).await, sorted(&[]));

    let token = console_login(&s, &primary, &password, 2).await;
    let (sub, sub_password, sub_phone) = (unique_name("sub"), gen_password(), gen_phone());
    let r = console_post(
        &s,
        "user/addition",
        &sub_account(&sub, &sub_password, &sub_phone, 2, "算力互联"),
        Some(&token),
    )
    .await;
    expect_console_ok(&r, "a sub-account in the primary's organisation");
    assert_eq!(
        roles_of(&s, &admin, &sub).await,
        vec![json!({"role_name": "console-sub", "scope": "org:2"})]
    );
    // Another organisation: refused, and nothing is created.
    let other = unique_name("sub");
    let r = console_post(
        &s,
        "user/addition",
        &sub_account(&other, &sub_password, &gen_phone(), 5, "汴水超算"),
        Some(&token),
    )
    .await;
    expect_console_error(&r, 400, "a sub-account in another organisation");
    assert!(!exists(&s, &other).await);
}

#[tokio::test]
async fn a_console_role_held_globally_moves_into_the_organisation_at_start() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let admin = s.admin_token().await;
    let (primary, password, _) = register(&s, &hook, 5).await;
    // As a release before scopes left it: the role held everywhere.
    let assignment =
        |scope: &str| json!({"user_name": primary, "role_name": "console-primary", "scope": scope});
    expect_ok(
        &s.post("platform/revoke/role", &assignment("org:5"), Some(&admin))
            .await,
        "drop the scoped role",
    );
    expect_ok(
        &s.post("platform/assign/role", &assignment(""), Some(&admin))
            .await,
        "hold it globally",
    );
    assert_eq!(
        roles_of(&s, &admin, &primary).await,
        vec![json!({"role_name": "console-primary", "scope": ""})]
    );

    let second = s.start_sharing(&["--sms-webhook", hook.url()]).await;
    assert_eq!(
        roles_of(&second, &admin, &primary).await,
        vec![json!({"role_name": "console-primary", "scope": "org:5"})],
        "moved into organisation 5 when the second instance started"
    );
    // The account still adds sub-accounts in its organisation.
    let token = console_login(&second, &primary, &password, 5).await;
    let (sub, sub_password, sub_phone) = (unique_name("sub"), gen_password(), gen_phone());
    let r = console_post(
        &second,
        "user/addition",
        &sub_account(&sub, &sub_password, &sub_phone, 5, "汴水超算"),
        Some(&token),
    )
    .await;
    expect_console_ok(&r, "a sub-account after the move");
}
