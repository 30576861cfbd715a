//! Identity hygiene: a user name is one name however it is cased or written (its NFKC case
//! fold), look-alike names (one UTS #39 skeleton) cannot sit beside each other, a word that
//! mixes Latin with Cyrillic or Greek is refused while names wholly in one script are not,
//! and e-mail addresses are unique regardless of case. Login finds a name in any of its
//! forms. Each refusal stands beside its positive control.

use tests::*;

/// `text` with every ASCII character in its full-width form.
fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
            other => other,
        })
        .collect()
}

async fn create(srv: &TestServer, admin: &str, name: &str, password: &str) -> (u16, Value) {
    srv.post(
        "platform/create/user",
        &json!({"user_name": name, "user_alias": "A", "phone_number": gen_phone(),
                "password": password, "remark": "r"}),
        Some(admin),
    )
    .await
}

#[tokio::test]
async fn a_name_is_one_name_however_it_is_written() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let password = gen_password();

    // Control: a fresh name is created, and logs in.
    let name = unique_name("lory");
    expect_ok(&create(&srv, &admin, &name, &password).await, "fresh name");
    srv.login(&name, &password).await;

    // The same name cased or written otherwise is taken (1005), and nothing is stored.
    let before = srv.list_users(&admin, None).await.len();
    for form in [
        name.to_uppercase(),
        full_width(&name),
        "ADMIN".to_string(),
        "Admin".to_string(),
        full_width("admin"),
        // Look-alikes: `rn` for `m`, digit one for `l`.
        "adrnin".to_string(),
        name.replacen('l', "1", 1),
    ] {
        let r = create(&srv, &admin, &form, &gen_password()).await;
        expect_code(&r, 200, 1005, &format!("{form} is taken"));
    }
    // A word mixing Cyrillic а (U+0430) into Latin, or Greek ο into Latin, is refused.
    for form in [format!("\u{430}{name}"), format!("l\u{3bf}{name}")] {
        let r = create(&srv, &admin, &form, &gen_password()).await;
        assert_ne!(code(&r.1), 0, "{form} was created: {}", r.1);
    }
    assert_eq!(
        srv.list_users(&admin, None).await.len(),
        before,
        "nothing stored"
    );

    // Names wholly in one script, or Latin beside Han, stay allowed.
    for form in [
        format!("李彬{}", &unique_name("")[..4]),
        "админ".to_string(),
        format!("{}李", unique_name("wang")),
    ] {
        expect_ok(
            &create(&srv, &admin, &form, &gen_password()).await,
            &format!("{form} allowed"),
        );
    }

    // Login finds the name in any of its forms; the wrong password still fails.
    srv.login(&name.to_uppercase(), &password).await;
    srv.login(&full_width(&name), &password).await;
    srv.login("ADMIN", srv.admin_password()).await;
    let r = srv
        .post(
            "login",
            &json!({"name": name.to_uppercase(), "password": "wrong-Passw0rd"}),
            None,
        )
        .await;
    assert_ne!(code(&r.1), 0, "{}", r.1);
}

#[tokio::test]
async fn email_addresses_are_unique_regardless_of_case() {
    let srv = TestServer::start().await;
    let body = |name: &str, email: &str| {
        json!({"metadata": {"name": name}, "nickname": "n", "password": "Reg@2020x",
               "email": email, "phone": gen_phone()})
    };
    let local = unique_name("lory");
    let email = format!("{local}@example.com");
    let r = srv
        .iam(
            "POST",
            "/v1/users",
            Auth::None,
            Some(&body(&unique_name("a"), &email)),
        )
        .await;
    expect_iam_ok(&r, "first address");
    let upper = email.to_uppercase();
    let r = srv
        .iam(
            "POST",
            "/v1/users",
            Auth::None,
            Some(&body(&unique_name("b"), &upper)),
        )
        .await;
    assert_eq!(r.0, 400, "{upper} registered beside {email}: {}", r.1);
    // Control: another address registers.
    let r = srv
        .iam(
            "POST",
            "/v1/users",
            Auth::None,
            Some(&body(&unique_name("c"), &format!("{local}x@example.com"))),
        )
        .await;
    expect_iam_ok(&r, "another address");
}
