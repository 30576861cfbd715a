//! Roles: a privilege matrix of checkboxes (a privilege the signed-in user does not hold is
//! shown disabled: grants add or remove only what the actor holds), creating and deleting
//! roles. Each action is the API's use-case; the server refuses what the page would not
//! offer.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rbac_core::{Error, Page, Principal};

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::Actor;
use crate::state::AppState;

/// The roles page.
pub(super) async fn roles(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    render(&app, &actor, &headers, None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    refusal: Option<(StatusCode, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    let authorizer = app.rbac.authorizer();
    let registry = authorizer.registry();
    let codes: Vec<String> = registry.codes().map(str::to_string).collect();
    let held: BTreeSet<String> = registry
        .codes_of(&authorizer.privileges_of(actor))
        .into_iter()
        .collect();
    let may = |code: &str| authorizer.require_code(actor, code).is_ok();
    let (can_grant, can_add, can_delete) =
        (may("RoleAuthority"), may("RoleAdd"), may("RoleDelete"));
    let listing = app.rbac.roles().list(actor, Page::default()).await;
    if let Err(e @ rbac_core::Error::Forbidden { .. }) = &listing {
        return super::forbidden_page(app, actor, lang, &csrf, lang.t("roles"), e);
    }
    let status = refusal.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        h1 { (lang.t("roles")) }
        @if let Some((_, text)) = &refusal { (notice(text)) }
        @match &listing {
            Err(e) => { (notice(&e.to_string())) }
            Ok(listing) => {
                div.matrix-scroll {
                    table.matrix {
                        caption { (lang.t("privilege_matrix")) }
                        thead { tr {
                            th scope="col" { (lang.t("role")) }
                            @for code in &codes { th scope="col" { span.code { (code) } } }
                            th scope="col" { (lang.t("includes")) }
                            th scope="col" { (lang.t("actions")) }
                        } }
                        tbody {
                            @for role in &listing.rows {
                                @let form_id = format!("grant-{}", role.id);
                                @let fixed = role.builtin || !can_grant;
                                tr data-role=(role.name) {
                                    th scope="row" {
                                        (role.name)
                                        @if !role.remark.is_empty() { br; span.muted { (role.remark) } }
                                    }
                                    @for code in &codes {
                                        @let checked = role.privileges.contains(code);
                                        @let locked = fixed || !held.contains(code);
                                        td {
                                            input type="checkbox" form=(form_id) name="privilege" value=(code)
                                                checked[checked] disabled[locked]
                                                aria-label={ (role.name) ": " (code) };
                                            // A disabled box is not submitted: keep what it holds.
                                            @if locked && checked {
                                                input type="hidden" form=(form_id) name="privilege" value=(code);
                                            }
                                        }
                                    }
                                    td.includes {
                                        @for id in &role.includes {
                                            @if let Some(r) = listing.rows.iter().find(|r| r.id == *id) {
                                                span.tag { (r.name) } " "
                                            }
                                        }
                                    }
                                    td.actions {
                                        form.inline #(form_id) method="post" action="/admin/roles/grant" {
                                            (csrf_field(&csrf))
                                            input type="hidden" name="role" value=(role.name);
                                            button.secondary type="submit" disabled[fixed] { (lang.t("save")) }
                                        }
                                        form.inline method="post" action="/admin/roles/delete" {
                                            (csrf_field(&csrf))
                                            input type="hidden" name="role" value=(role.name);
                                            button.danger type="submit" disabled[role.builtin || !can_delete] { (lang.t("delete")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Ok(listing) = &listing {
            section.card {
                h2 { (lang.t("included_roles")) }
                p.muted { (lang.t("included_hint")) }
                form #include-roles method="post" action="/admin/roles/include" {
                    (csrf_field(&csrf))
                    fieldset disabled[!can_grant] {
                        label for="include-role" { (lang.t("role")) }
                        select #include-role name="role" {
                            @for r in listing.rows.iter().filter(|r| !r.builtin) {
                                option value=(r.name) { (r.name) }
                            }
                        }
                        fieldset.checks {
                            legend { (lang.t("includes")) }
                            @for r in &listing.rows {
                                label { input type="checkbox" name="include" value=(r.name); " " (r.name) }
                            }
                        }
                        button type="submit" { (lang.t("save")) }
                    }
                }
            }
        }
        section.card {
            h2 { (lang.t("create_role")) }
            form #create-role method="post" action="/admin/roles/create" {
                (csrf_field(&csrf))
                fieldset disabled[!can_add] {
                    label for="role-name" { (lang.t("role")) }
                    input #role-name name="role" type="text" required;
                    label for="role-remark" { (lang.t("remark")) }
                    input #role-remark name="remark" type="text";
                    button type="submit" { (lang.t("create")) }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    let mut resp = page(lang, lang.t("roles"), Some(&viewer), body);
    *resp.status_mut() = status;
    resp
}

/// The submitted pairs of a form (a field may repeat: `privilege=a&privilege=b`).
type Pairs = Vec<(String, String)>;

fn first<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Replaces a role's privileges with the boxes ticked (needs RoleAuthority; only what the
/// caller holds may be added or removed).
pub(super) async fn grant(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(pairs): CheckedForm<Pairs>,
) -> Response {
    act(
        &app,
        &actor,
        &headers,
        &pairs,
        |app, actor, pairs| async move {
            let role = first(&pairs, "role").unwrap_or_default().to_string();
            let codes: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k == "privilege")
                .map(|(_, v)| v.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            app.rbac
                .roles()
                .grant(&actor, &role, &codes)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// Replaces the roles a role includes (needs RoleAuthority; the role, every role added or
/// removed and every role including it must lie within the caller).
pub(super) async fn include(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(pairs): CheckedForm<Pairs>,
) -> Response {
    act(
        &app,
        &actor,
        &headers,
        &pairs,
        |app, actor, pairs| async move {
            let role = first(&pairs, "role").unwrap_or_default().to_string();
            let include: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k == "include")
                .map(|(_, v)| v.clone())
                .collect();
            app.rbac
                .roles()
                .include(&actor, &role, &include)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// Creates a role (needs RoleAdd).
pub(super) async fn create(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(pairs): CheckedForm<Pairs>,
) -> Response {
    act(
        &app,
        &actor,
        &headers,
        &pairs,
        |app, actor, pairs| async move {
            let name = first(&pairs, "role").unwrap_or_default().trim().to_string();
            let remark = first(&pairs, "remark").unwrap_or_default().to_string();
            app.rbac
                .roles()
                .create(&actor, &name, &remark)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// Deletes a role nobody holds (needs RoleDelete, within the caller).
pub(super) async fn delete(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(pairs): CheckedForm<Pairs>,
) -> Response {
    act(
        &app,
        &actor,
        &headers,
        &pairs,
        |app, actor, pairs| async move {
            let name = first(&pairs, "role").unwrap_or_default().to_string();
            app.rbac.roles().delete(&actor, &name).await
        },
    )
    .await
}

async fn act<F, Fut>(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    pairs: &Pairs,
    action: F,
) -> Response
where
    F: FnOnce(AppState, Principal, Pairs) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let lang = Lang::of(headers);
    match action(app.clone(), actor.clone(), pairs.clone()).await {
        Ok(()) => Redirect::to("/admin/roles").into_response(),
        Err(e) if super::needs_step_up(&e) => super::to_step_up(),
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            render(app, actor, headers, Some((status, text))).await
        }
    }
}
