//! Large listings take turns: with `--full-listings 0` every listing of more than 1,000
//! rows (or of everything) gets the surface's busy answer, and smaller pages are served as
//! before (the control); with the default two, the same requests are served.

use tests::*;

#[tokio::test]
async fn large_listings_get_the_busy_answer_when_no_turn_is_free() {
    let s = TestServer::start_with(&["--full-listings", "0", "--full-listing-wait-ms", "50"]).await;
    let admin = s.admin_token().await;
    let all = s
        .post(
            "platform/list/user",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    expect_code(&all, 200, 1019, "every user at once");
    let big = s
        .post(
            "platform/list/user",
            &json!({"page_no": 0, "page_size": 5000}),
            Some(&admin),
        )
        .await;
    expect_code(&big, 200, 1019, "5,000 users");
    expect_ok(
        &s.post(
            "platform/list/user",
            &json!({"page_no": 0, "page_size": 1000}),
            Some(&admin),
        )
        .await,
        "a page of 1,000",
    );
    expect_code(
        &s.post(
            "platform/list/oper-log",
            &json!({"page_size": 0}),
            Some(&admin),
        )
        .await,
        200,
        1019,
        "the whole log",
    );

    let iam = s.iam_admin_token().await;
    let r = s
        .iam("GET", "/v1/users?limit=5000", Auth::Bearer(&iam), None)
        .await;
    assert_eq!(r.0, 503, "IAM's busy answer: {r:?}");
    let r = s
        .iam("GET", "/v1/users?limit=10", Auth::Bearer(&iam), None)
        .await;
    assert_eq!(r.0, 200, "a small IAM page: {r:?}");

    // The default: two at a time, so one request is served.
    let served = TestServer::start().await;
    let admin = served.admin_token().await;
    expect_ok(
        &served
            .post(
                "platform/list/user",
                &json!({"page_no": 0, "page_size": 0}),
                Some(&admin),
            )
            .await,
        "every user, with turns free",
    );
}
