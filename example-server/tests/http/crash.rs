//! A write load of user creations, `kill -9` of the server in the middle of it, a restart on
//! the same database: every creation that was acknowledged is there, and the store opens
//! cleanly (SQLite in WAL mode, PostgreSQL, MariaDB).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tests::*;

#[tokio::test]
async fn acknowledged_creations_survive_kill_9() {
    let srv = Arc::new(TestServer::start().await);
    let admin = srv.admin_token().await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (srv, admin, acknowledged) = (srv.clone(), admin.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("{}-{w}-{i}", unique_name("load"));
                    let body = json!({
                        "user_name": name,
                        "user_alias": "load",
                        "password": gen_password(),
                        "phone_number": gen_phone(),
                    });
                    match srv
                        .try_post("platform/create/user", &body, Some(&admin))
                        .await
                    {
                        Ok((200, v)) if v["header"]["code"] == json!(0) => {
                            acknowledged.lock().expect("lock").push(name);
                        }
                        Ok(_) => {}
                        // The server is gone: the load ends.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    // Let the load run, then pull the plug mid-flight.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    srv.kill9();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("workers stop once the server is gone")
            .expect("worker");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 5,
        "the load barely ran ({} creations acknowledged)",
        acknowledged.len()
    );

    // Restart on the same database: it opens, migrates (a no-op) and serves.
    let again = srv.start_sharing(&[]).await;
    let admin = again.admin_token().await;
    let r = again
        .post(
            "platform/list/user",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list after the restart");
    let stored: std::collections::HashSet<String> = data["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["user_name"].as_str().map(str::to_string))
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !stored.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged creations were lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    eprintln!(
        "{} acknowledged creations, all present after kill -9 and restart",
        acknowledged.len()
    );
}
