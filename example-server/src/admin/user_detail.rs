//! One user: the profile (display name, phone, e-mail, remark) and the roles held,
//! everywhere or within a scope (`org:2`, `project:17`), assigned and revoked here. Every
//! change is the API's use-case behind the same step-up requirement, so it stays within
//! the containment rule: only a user, and roles, lying within the signed-in user.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rbac_core::service::UserEdit;
use rbac_core::{Page, Principal};
use serde::Deserialize;

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::Actor;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct UserQuery {
    name: Option<String>,
}

/// The user's page.
pub(super) async fn user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    Query(q): Query<UserQuery>,
) -> Response {
    render(&app, &actor, &headers, &q.name.unwrap_or_default(), None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    name: &str,
    refusal: Option<(StatusCode, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    // Reading another user needs UserAccess, as listing does.
    let found = match app.rbac.assignments().of_user(actor, name).await {
        Ok(held) => app.rbac.users().named(name).await.map(|u| (held, u)),
        Err(e) => Err(e),
    };
    let Ok((held, user)) = found else {
        let (status, text) =
            refusal.unwrap_or((StatusCode::NOT_FOUND, lang.t("no_such_user").into()));
        let mut resp = page(
            lang,
            lang.t("users"),
            Some(&viewer),
            html! { (notice(&text)) },
        );
        *resp.status_mut() = status;
        return resp;
    };
    let roles = app
        .rbac
        .roles()
        .list(actor, Page::default())
        .await
        .map(|l| l.rows)
        .unwrap_or_default();
    let can_edit = app
        .rbac
        .authorizer()
        .require_code(actor, "UserEdit")
        .is_ok();
    let status = refusal.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        h1 { (user.name) }
        @if let Some((_, text)) = &refusal { (notice(text)) }
        section.card {
            h2 { (lang.t("profile")) }
            form #edit-user method="post" action="/admin/users/edit" {
                (csrf_field(&csrf))
                input type="hidden" name="name" value=(user.name);
                fieldset disabled[!can_edit] {
                    label for="alias" { (lang.t("alias")) }
                    input #alias name="alias" type="text" value=(user.alias);
                    label for="phone" { (lang.t("phone")) }
                    input #phone name="phone" type="text" value=(user.phone);
                    label for="email" { (lang.t("email")) }
                    input #email name="email" type="text" value=(user.email.clone().unwrap_or_default());
                    label for="remark" { (lang.t("remark")) }
                    input #remark name="remark" type="text" value=(user.remark);
                    button type="submit" { (lang.t("save")) }
                }
            }
        }
        section.card {
            h2 { (lang.t("roles")) }
            table #held-roles {
                thead { tr {
                    th scope="col" { (lang.t("role")) }
                    th scope="col" { (lang.t("scope")) }
                    th scope="col" { (lang.t("actions")) }
                } }
                tbody {
                    @for h in &held {
                        @let scope = h.scope.map(|s| s.to_string()).unwrap_or_default();
                        tr {
                            td { (h.role_name) }
                            td { @if scope.is_empty() { (lang.t("everywhere")) } @else { code { (scope) } } }
                            td {
                                form.inline method="post" action="/admin/users/revoke" {
                                    (csrf_field(&csrf))
                                    input type="hidden" name="name" value=(user.name);
                                    input type="hidden" name="role" value=(h.role_name);
                                    input type="hidden" name="scope" value=(scope);
                                    button.secondary type="submit" disabled[!can_edit] { (lang.t("revoke")) }
                                }
                            }
                        }
                    }
                }
            }
            form #assign-role method="post" action="/admin/users/assign" {
                (csrf_field(&csrf))
                input type="hidden" name="name" value=(user.name);
                fieldset disabled[!can_edit] {
                    label for="assign-role-name" { (lang.t("role")) }
                    select #assign-role-name name="role" {
                        @for role in &roles { option value=(role.name) { (role.name) } }
                    }
                    label for="assign-scope" { (lang.t("scope_hint")) }
                    input #assign-scope name="scope" type="text" placeholder="org:2";
                    button type="submit" { (lang.t("assign")) }
                }
            }
        }
    };
    let mut resp = page(lang, &user.name, Some(&viewer), body);
    *resp.status_mut() = status;
    resp
}

#[derive(Debug, Deserialize)]
pub(super) struct DetailForm {
    name: Option<String>,
    alias: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    remark: Option<String>,
    role: Option<String>,
    scope: Option<String>,
}

/// Changes the profile (UserEdit, within the caller).
pub(super) async fn edit(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<DetailForm>,
) -> Response {
    act(app, actor, headers, form, Change::Profile).await
}

/// Gives the user a role, everywhere or within a scope.
pub(super) async fn assign(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<DetailForm>,
) -> Response {
    act(app, actor, headers, form, Change::Assign).await
}

/// Takes a role from the user, everywhere or within a scope.
pub(super) async fn revoke(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<DetailForm>,
) -> Response {
    act(app, actor, headers, form, Change::Revoke).await
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Profile,
    Assign,
    Revoke,
}

async fn act(
    app: AppState,
    actor: Principal,
    headers: HeaderMap,
    form: DetailForm,
    change: Change,
) -> Response {
    let lang = Lang::of(&headers);
    let name = form.name.unwrap_or_default();
    let rbac = &app.rbac;
    let scope = match form
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(text) => rbac.assignments().parse_scope("scope", text).map(Some),
    };
    let role = form.role.unwrap_or_default();
    let done = match (change, scope) {
        (_, Err(e)) => Err(e),
        (Change::Profile, _) => rbac
            .users()
            .edit(
                &actor,
                &name,
                UserEdit {
                    alias: form.alias,
                    phone: form.phone,
                    email: form.email,
                    remark: form.remark,
                    ..UserEdit::default()
                },
            )
            .await
            .map(|_| ()),
        (Change::Assign, Ok(scope)) => rbac
            .assignments()
            .assign(&actor, &name, &role, scope)
            .await
            .map(|_| ()),
        (Change::Revoke, Ok(scope)) => rbac
            .assignments()
            .revoke(&actor, &name, &role, scope)
            .await
            .map(|_| ()),
    };
    match done {
        Ok(()) => {
            let query = serde_urlencoded::to_string([("name", name.as_str())]).unwrap_or_default();
            Redirect::to(&format!("/admin/user?{query}")).into_response()
        }
        Err(e) if super::needs_step_up(&e) => super::to_step_up(),
        Err(e) => {
            let refusal = super::refusal(lang, &e);
            render(&app, &actor, &headers, &name, Some(refusal)).await
        }
    }
}
