//! The library as an adopter meets it: the builder's few lines give a working system
//! (the built-in admin administers), its methods compose in any order, scopes must be
//! declared, the system seeds without a password, roles are defined in one call, and the
//! secrets key lives in a file the builder creates.

mod support;

use std::time::Duration;

use rbac_core::service::LoginInput;
use rbac_core::{AdminPrivileges, Error, MemoryStore, Rbac, Scope};

const SECRET: &str = "adopter-test-secret-adopter-test-secret";

async fn newsroom() -> Rbac {
    Rbac::builder(MemoryStore::new())
        .secret(SECRET)
        .scope_kinds(["org", "desk"])
        .privileges(["ArticleRead", "ArticleWrite", "ArticlePublish", "DeskAdmin"])
        .admin_privileges(AdminPrivileges::all("DeskAdmin"))
        .step_up(Duration::from_secs(120))
        // After the others on purpose: it must not undo them.
        .config(support::fast())
        .admin_password("Admin-password-1")
        .build()
        .await
        .expect("rbac")
}

#[tokio::test]
async fn the_built_in_admin_administers_with_the_defaults() {
    let rbac = Rbac::builder(MemoryStore::new())
        .secret(SECRET)
        .privileges(["ArticleRead"])
        .config(support::fast())
        .admin_password("Admin-password-1")
        .build()
        .await
        .expect("rbac");
    let admin = support::signed_in(&rbac, "admin", "Admin-password-1").await;
    rbac.roles()
        .create(&admin, "reader", "")
        .await
        .expect("a role");
    rbac.roles()
        .grant(&admin, "reader", ["ArticleRead"])
        .await
        .expect("granted");
}

#[tokio::test]
async fn builder_methods_compose_in_any_order_and_map_administration() {
    let rbac = newsroom().await;
    let registry = rbac.authorizer().registry();
    assert!(registry.id("DeskAdmin").is_some());
    assert!(
        registry.id("UserAdd").is_none(),
        "administration is DeskAdmin"
    );
    // .config() came last and kept the kinds: a declared kind parses.
    assert_eq!(
        rbac.assignments()
            .parse_scope("scope", "desk:7")
            .expect("declared")
            .to_string(),
        "desk:7"
    );
    let system = rbac.system().await.expect("system");
    rbac.roles()
        .create(&system, "editor", "")
        .await
        .expect("role");
    match rbac.roles().create(&system, "", "").await {
        Err(Error::InvalidParam { .. }) => {}
        other => panic!("an empty name: {other:?}"),
    }
}

#[tokio::test]
async fn undeclared_scope_kinds_are_refused_everywhere() {
    let rbac = newsroom().await;
    let system = rbac.system().await.expect("system");
    rbac.roles()
        .define(&system, "reporter", ["ArticleRead"], Vec::<&str>::new())
        .await
        .expect("role");
    let user = rbac
        .users()
        .create(
            Some(&system),
            rbac_core::service::UserInput {
                name: "erin".into(),
                password: "Erin-password-1".into(),
                ..Default::default()
            },
        )
        .await
        .expect("user");
    let team = Scope::new("team", 1).expect("a well-formed scope");
    fn refused<T: std::fmt::Debug>(r: Result<T, Error>) {
        match r {
            Err(Error::InvalidParam { reason, .. }) => {
                assert!(reason.contains(".scope_kinds(["), "names the fix: {reason}")
            }
            other => panic!("an undeclared kind: {other:?}"),
        }
    }
    refused(
        rbac.assignments()
            .assign(&system, &user.name, "reporter", Some(team))
            .await,
    );
    refused(rbac.assignments().set_scope_parent(team, None).await);
    let desk = Scope::new("desk", 1).expect("scope");
    refused(rbac.assignments().set_scope_parent(desk, Some(team)).await);
    refused(rbac.assignments().parse_scope("scope", "team:1"));
    // The control: declared kinds are accepted.
    let org = Scope::new("org", 1).expect("scope");
    rbac.assignments()
        .set_scope_parent(desk, Some(org))
        .await
        .expect("declared");
    assert!(rbac
        .assignments()
        .assign(&system, &user.name, "reporter", Some(desk))
        .await
        .expect("declared"));
}

#[tokio::test]
async fn roles_are_defined_in_one_call_and_the_system_is_audited_as_such() {
    let rbac = newsroom().await;
    let system = rbac.system().await.expect("system");
    assert!(system.is_system());
    rbac.roles()
        .define(
            &system,
            "reporter",
            ["ArticleRead", "ArticleWrite"],
            Vec::<&str>::new(),
        )
        .await
        .expect("reporter");
    let editor = rbac
        .roles()
        .define(&system, "editor", ["ArticlePublish"], ["reporter"])
        .await
        .expect("editor");
    assert_eq!(editor.privileges, vec!["ArticlePublish".to_string()]);
    // Again, changed: it converges on what is asked.
    let editor = rbac
        .roles()
        .define(
            &system,
            "editor",
            ["ArticlePublish", "ArticleRead"],
            ["reporter"],
        )
        .await
        .expect("again");
    assert_eq!(editor.privileges.len(), 2);
    let reporter = rbac.roles().named("reporter").await.expect("reporter");
    assert_eq!(editor.includes, vec![reporter.id]);
    let entries = rbac
        .audit()
        .list(&system, Default::default())
        .await
        .expect("audit")
        .rows;
    assert!(
        entries
            .iter()
            .any(|e| e.user_name == "system" && e.user_id.is_none()),
        "the system's actions are audited as the system"
    );
}

/// Seeding on every start is quiet: defining a role exactly as it stands writes nothing
/// (no change, no audit entry, no event). The control: a real change is written.
#[tokio::test]
async fn defining_a_role_as_it_stands_writes_nothing() {
    let rbac = newsroom().await;
    let system = rbac.system().await.expect("system");
    let define = |codes: &'static [&'static str]| {
        let rbac = rbac.clone();
        let system = system.clone();
        async move {
            rbac.roles()
                .define(&system, "reporter", codes, Vec::<&str>::new())
                .await
                .expect("define");
            rbac.roles()
                .define(&system, "editor", ["ArticlePublish"], ["reporter"])
                .await
                .expect("define editor");
        }
    };
    define(&["ArticleRead", "ArticleWrite"]).await;
    let before = rbac.store().change_cursor().await.expect("cursor");
    // The same codes in another order: nothing to write.
    define(&["ArticleWrite", "ArticleRead"]).await;
    assert_eq!(rbac.store().change_cursor().await.expect("cursor"), before);
    // Control: one code fewer is a change, and is written.
    define(&["ArticleRead"]).await;
    assert!(rbac.store().change_cursor().await.expect("cursor") > before);
    let reporter = rbac.roles().named("reporter").await.expect("reporter");
    assert_eq!(reporter.privileges, vec!["ArticleRead".to_string()]);
}

#[tokio::test]
async fn a_login_needs_the_clients_address() {
    let rbac = newsroom().await;
    match rbac
        .sessions()
        .login(&LoginInput::new("admin", "Admin-password-1", ""))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
    {
        Err(Error::InvalidParam { field: "ip", .. }) => {}
        other => panic!("no address: {other:?}"),
    }
    rbac.sessions()
        .login(&LoginInput::new("admin", "Admin-password-1", "10.0.0.1"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("with an address");
}

#[tokio::test]
async fn the_secrets_key_file_is_created_once_for_its_owner_only() {
    let dir = std::env::temp_dir().join(format!("rbac-adopter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("secrets.key");
    let _ = std::fs::remove_file(&path);
    let build = || {
        Rbac::builder(MemoryStore::new())
            .secret(SECRET)
            .privileges(["ArticleRead"])
            .secrets_key_file(&path)
            .config(support::fast())
            .build()
    };
    build().await.expect("first build creates the key");
    let first = std::fs::read_to_string(&path).expect("the key file");
    assert_eq!(first.trim().len(), 64, "32 bytes in hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    build().await.expect("second build reads it");
    assert_eq!(
        std::fs::read_to_string(&path).expect("again"),
        first,
        "kept"
    );
    std::fs::write(&path, "not a key").expect("spoil");
    assert!(build().await.is_err(), "a spoiled key file is refused");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_scoped_administrator_reads_the_assignments_in_its_scopes() {
    let rbac = newsroom().await;
    let system = rbac.system().await.expect("system");
    rbac.roles()
        .define(&system, "desk-admin", ["DeskAdmin"], Vec::<&str>::new())
        .await
        .expect("role");
    rbac.roles()
        .define(&system, "reporter", ["ArticleRead"], Vec::<&str>::new())
        .await
        .expect("role");
    for name in ["dave", "erin", "frank"] {
        rbac.users()
            .create(
                Some(&system),
                rbac_core::service::UserInput {
                    name: name.into(),
                    password: format!("{name}-Password-1"),
                    ..Default::default()
                },
            )
            .await
            .expect("user");
    }
    let (sports, politics) = (
        Scope::new("desk", 1).expect("scope"),
        Scope::new("desk", 2).expect("scope"),
    );
    let assign = |user: &'static str, role: &'static str, scope: Option<Scope>| {
        let (rbac, system) = (&rbac, &system);
        async move {
            rbac.assignments()
                .assign(system, user, role, scope)
                .await
                .expect("assigned");
        }
    };
    assign("dave", "desk-admin", Some(sports)).await;
    assign("erin", "reporter", Some(sports)).await;
    assign("erin", "reporter", None).await;
    assign("frank", "reporter", Some(politics)).await;
    let dave = support::signed_in(&rbac, "dave", "dave-Password-1").await;
    let erin = rbac
        .assignments()
        .of_user(&dave, "erin")
        .await
        .expect("within sports");
    assert_eq!(erin.len(), 1, "only the sports desk's assignment: {erin:?}");
    assert_eq!(erin[0].scope, Some(sports));
    match rbac.assignments().of_user(&dave, "frank").await {
        Err(Error::Forbidden { .. }) => {}
        other => panic!("frank holds nothing on dave's desk: {other:?}"),
    }
    // The control: the system reads every assignment.
    assert_eq!(
        rbac.assignments()
            .of_user(&system, "erin")
            .await
            .expect("all")
            .len(),
        2
    );
}
