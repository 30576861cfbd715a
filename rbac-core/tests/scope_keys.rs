//! Scope numbers as an adopter meets them: `scope_key` looks a scope up once, `check_in_key`
//! answers as `check_in` does, a scope nobody holds anything in is answered by the global
//! roles alone, a key of another authorizer holds nothing, and numbers survive role
//! reloads and parent changes made after grants were resolved.

mod support;

use rbac_core::service::UserInput;
use rbac_core::{AdminPrivileges, MemoryStore, Principal, Rbac, Scope};

async fn newsroom() -> Rbac {
    Rbac::builder(MemoryStore::new())
        .secret("scope-keys-test-secret-scope-keys-test")
        .scope_kinds(["org", "desk"])
        .privileges(["ArticleRead", "ArticlePublish", "DeskAdmin"])
        .admin_privileges(AdminPrivileges::all("DeskAdmin"))
        .config(support::fast())
        .build()
        .await
        .expect("rbac")
}

fn scope(text: &str) -> Scope {
    Scope::parse(text).expect("a scope")
}

/// `erin` reads everywhere and is the editor (publishes) of `desk:sports`.
async fn editor_of_sports(rbac: &Rbac) -> Principal {
    let system = rbac.system().await.expect("system");
    let roles = rbac.roles();
    roles
        .define(&system, "reader", ["ArticleRead"], Vec::<&str>::new())
        .await
        .expect("reader");
    roles
        .define(&system, "editor", ["ArticlePublish"], Vec::<&str>::new())
        .await
        .expect("editor");
    let user = UserInput {
        name: "erin".into(),
        password: "Erin-password-1".into(),
        roles: vec!["reader".into()],
        ..Default::default()
    };
    rbac.users()
        .create(Some(&system), user)
        .await
        .expect("erin");
    rbac.assignments()
        .assign(&system, "erin", "editor", Some(scope("desk:sports")))
        .await
        .expect("assigned");
    support::signed_in(rbac, "erin", "Erin-password-1").await
}

#[tokio::test]
async fn a_key_answers_as_the_scope_does() {
    let rbac = newsroom().await;
    let erin = editor_of_sports(&rbac).await;
    let authorizer = rbac.authorizer();
    let registry = authorizer.registry();
    let (read, publish) = (
        registry.id("ArticleRead").expect("read"),
        registry.id("ArticlePublish").expect("publish"),
    );
    let sports = authorizer.scope_key(&scope("desk:sports"));
    assert!(sports.is_known(), "a role is held there");
    assert!(authorizer.check_in_key(&erin, publish, sports));
    assert!(authorizer.check_in(&erin, publish, &scope("desk:sports")));
    assert!(
        authorizer.check_in_key(&erin, read, sports),
        "global roles hold too"
    );
    // A scope nobody holds anything in has no number: global roles only, no store read.
    for other in ["desk:Sports", "desk:sport", "desk:politics", "org:sports"] {
        let key = authorizer.scope_key(&scope(other));
        assert!(!key.is_known(), "{other}");
        assert!(!authorizer.check_in_key(&erin, publish, key), "{other}");
        assert!(
            !authorizer.check_in(&erin, publish, &scope(other)),
            "{other}"
        );
        assert!(authorizer.check_in_key(&erin, read, key), "{other}: global");
    }
}

#[tokio::test]
async fn a_key_of_another_authorizer_holds_nothing() {
    let (first, second) = (newsroom().await, newsroom().await);
    let erin = editor_of_sports(&first).await;
    let publish = first
        .authorizer()
        .registry()
        .id("ArticlePublish")
        .expect("publish");
    // Both number desk:sports first, so the numbers agree; the key still belongs to one.
    let _ = editor_of_sports(&second).await;
    let mine = first.authorizer().scope_key(&scope("desk:sports"));
    let theirs = second.authorizer().scope_key(&scope("desk:sports"));
    assert!(mine.is_known() && theirs.is_known());
    assert_ne!(mine, theirs);
    assert!(first.authorizer().check_in_key(&erin, publish, mine));
    assert!(!first.authorizer().check_in_key(&erin, publish, theirs));
}

#[tokio::test]
async fn numbers_survive_role_reloads_and_later_parents() {
    let rbac = newsroom().await;
    let erin = editor_of_sports(&rbac).await;
    let authorizer = rbac.authorizer();
    let publish = authorizer.registry().id("ArticlePublish").expect("publish");
    let before = authorizer.scope_key(&scope("desk:sports"));
    authorizer.load_roles().await.expect("reload");
    assert_eq!(authorizer.scope_key(&scope("desk:sports")), before);
    assert!(authorizer.check_in_key(&erin, publish, before));
    // A desk put under sports after erin's grants were resolved: held there through its
    // parent; its sibling under another desk is not.
    let (results, weather) = (scope("desk:results"), scope("desk:weather"));
    assert!(!authorizer.check_in(&erin, publish, &results));
    rbac.assignments()
        .set_scope_parent(results, Some(scope("desk:sports")))
        .await
        .expect("parent");
    rbac.assignments()
        .set_scope_parent(weather, Some(scope("desk:news")))
        .await
        .expect("parent");
    assert!(authorizer.check_in(&erin, publish, &results));
    assert!(authorizer.check_in_key(&erin, publish, authorizer.scope_key(&results)));
    assert!(!authorizer.check_in(&erin, publish, &weather));
    assert_eq!(
        authorizer.scope_count(),
        4,
        "sports, results, weather, news"
    );
    // Unlinked: no longer held there (the number stays, the parent goes).
    rbac.assignments()
        .set_scope_parent(results, None)
        .await
        .expect("unlinked");
    assert!(!authorizer.check_in(&erin, publish, &results));
    assert!(authorizer.check_in(&erin, publish, &scope("desk:sports")));
}
