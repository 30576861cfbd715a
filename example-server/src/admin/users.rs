//! Users: search and paging, creating one with a role, enabling or disabling, resetting a
//! password, deleting. Each action goes through the same use-case as the API (privileges,
//! then the containment rule); the page offers only what the signed-in user may do, and
//! the server refuses the rest regardless.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use rbac_core::service::{UserInput, UserView};
use rbac_core::{Order, Page, Principal, UserQuery};
use serde::Deserialize;

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::Actor;
use crate::state::AppState;

/// Users per page.
const PER_PAGE: u64 = 20;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    page: Option<u64>,
}

/// The users page.
pub(super) async fn users(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    render(&app, &actor, &headers, &query, None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    query: &ListQuery,
    refusal: Option<(StatusCode, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    let search = query.q.clone().unwrap_or_default();
    let page_no = query.page.unwrap_or(0);
    let listing = app
        .rbac
        .users()
        .list(
            actor,
            &UserQuery {
                name_contains: Some(search.clone()).filter(|s| !s.is_empty()),
                member_of: None,
                order: Order::OldestFirst,
                page: Page {
                    offset: page_no.saturating_mul(PER_PAGE),
                    limit: Some(PER_PAGE),
                },
            },
        )
        .await;
    if let Err(e @ rbac_core::Error::Forbidden { .. }) = &listing {
        return super::forbidden_page(app, actor, lang, &csrf, lang.t("users"), e);
    }
    let roles = app
        .rbac
        .roles()
        .list(actor, Page::default())
        .await
        .map(|l| l.rows)
        .unwrap_or_default();
    let may = |code: &str| app.rbac.authorizer().require_code(actor, code).is_ok();
    let (can_add, can_toggle, can_edit, can_delete) = (
        may("UserAdd"),
        may("UserEnableOrDisable"),
        may("UserEdit"),
        may("UserDelete"),
    );
    let status = refusal.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        h1 { (lang.t("users")) }
        @if let Some((_, text)) = &refusal { (notice(text)) }
        form.search method="get" action="/admin/users" role="search" {
            label for="q" { (lang.t("search")) }
            input #q name="q" type="search" value=(search);
            button type="submit" { (lang.t("search")) }
        }
        @match &listing {
            Err(e) => { (notice(&e.to_string())) }
            Ok(listing) => {
                p.count { (listing.total) " " (lang.t("users_found")) }
                table.users {
                    thead { tr {
                        th scope="col" { (lang.t("user_name")) }
                        th scope="col" { (lang.t("roles")) }
                        th scope="col" { (lang.t("state")) }
                        th scope="col" { (lang.t("actions")) }
                    } }
                    tbody {
                        @for view in &listing.rows {
                            (row(lang, &csrf, view, can_toggle, can_edit, can_delete))
                        }
                    }
                }
                (pager(lang, &search, page_no, listing.total))
            }
        }
        section.card {
            h2 { (lang.t("create_user")) }
            form #create-user method="post" action="/admin/users/create" {
                (csrf_field(&csrf))
                fieldset disabled[!can_add] {
                    label for="new-name" { (lang.t("user_name")) }
                    input #new-name name="name" type="text" required;
                    label for="new-password" { (lang.t("password")) }
                    input #new-password name="password" type="password" autocomplete="new-password" required;
                    label for="new-role" { (lang.t("role")) }
                    select #new-role name="role" {
                        option value="" { "—" }
                        @for role in &roles { option value=(role.name) { (role.name) } }
                    }
                    button type="submit" { (lang.t("create")) }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    let mut resp = page(lang, lang.t("users"), Some(&viewer), body);
    *resp.status_mut() = status;
    resp
}

fn row(
    lang: Lang,
    csrf: &str,
    view: &UserView,
    can_toggle: bool,
    can_edit: bool,
    can_delete: bool,
) -> Markup {
    let user = &view.user;
    html! {
        tr data-user=(user.name) {
            td {
                a.user href={ "/admin/user?name=" (urlencode(&user.name)) } { (user.name) }
                @if !user.alias.is_empty() { " " span.muted { "(" (user.alias) ")" } }
            }
            td { (view.role_names.join(", ")) }
            td { @if user.enabled { (lang.t("enabled")) } @else { (lang.t("disabled_state")) } }
            td.actions {
                form.inline method="post" action="/admin/users/enabled" {
                    (csrf_field(csrf))
                    input type="hidden" name="name" value=(user.name);
                    input type="hidden" name="enabled" value=(if user.enabled { "false" } else { "true" });
                    button.secondary type="submit" disabled[!can_toggle] {
                        @if user.enabled { (lang.t("disable")) } @else { (lang.t("enable")) }
                    }
                }
                form.inline method="post" action="/admin/users/password" {
                    (csrf_field(csrf))
                    input type="hidden" name="name" value=(user.name);
                    label.visually-hidden for={ "pw-" (user.id) } { (lang.t("new_password")) }
                    input id={ "pw-" (user.id) } name="password" type="password" autocomplete="new-password" placeholder=(lang.t("new_password")) disabled[!can_edit];
                    button.secondary type="submit" disabled[!can_edit] { (lang.t("reset_password")) }
                }
                a.sessions href={ "/admin/sessions?user=" (urlencode(&user.name)) } { (lang.t("sessions")) }
                form.inline method="post" action="/admin/users/delete" {
                    (csrf_field(csrf))
                    input type="hidden" name="name" value=(user.name);
                    button.danger type="submit" disabled[!can_delete] { (lang.t("delete")) }
                }
            }
        }
    }
}

fn pager(lang: Lang, search: &str, page_no: u64, total: u64) -> Markup {
    let last = total.saturating_sub(1) / PER_PAGE;
    let link = |p: u64| format!("/admin/users?q={}&page={p}", urlencode(search));
    html! {
        nav.pager aria-label=(lang.t("pages")) {
            @if page_no > 0 { a href=(link(page_no - 1)) rel="prev" { "‹ " (lang.t("previous")) } }
            span { (page_no.saturating_add(1)) " / " (last.saturating_add(1)) }
            @if page_no < last { a href=(link(page_no.saturating_add(1))) rel="next" { (lang.t("next")) " ›" } }
        }
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub(super) struct UserForm {
    name: Option<String>,
    password: Option<String>,
    role: Option<String>,
    enabled: Option<String>,
}

/// Creates a user (needs UserAdd; the role only if the caller holds all it confers).
pub(super) async fn create(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<UserForm>,
) -> Response {
    act(&app, &actor, &headers, form, Action::Create).await
}

/// Enables or disables a user (needs UserEnableOrDisable, within the caller).
pub(super) async fn set_enabled(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<UserForm>,
) -> Response {
    act(&app, &actor, &headers, form, Action::SetEnabled).await
}

/// Sets another user's password (needs UserEdit, within the caller).
pub(super) async fn reset_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<UserForm>,
) -> Response {
    act(&app, &actor, &headers, form, Action::ResetPassword).await
}

/// Deletes a user (needs UserDelete, within the caller).
pub(super) async fn delete(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<UserForm>,
) -> Response {
    act(&app, &actor, &headers, form, Action::Delete).await
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Create,
    SetEnabled,
    ResetPassword,
    Delete,
}

async fn act(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    form: UserForm,
    action: Action,
) -> Response {
    let lang = Lang::of(headers);
    let name = form.name.unwrap_or_default();
    let rbac = &app.rbac;
    let done = match action {
        Action::Create => rbac
            .users()
            .create(
                Some(actor),
                UserInput {
                    name: name.trim().to_string(),
                    password: form.password.unwrap_or_default(),
                    roles: form.role.into_iter().filter(|r| !r.is_empty()).collect(),
                    ..UserInput::default()
                },
            )
            .await
            .map(|_| ()),
        Action::SetEnabled => {
            let enabled = form.enabled.as_deref() == Some("true");
            rbac.users().set_enabled(actor, &name, enabled).await
        }
        Action::ResetPassword => {
            rbac.users()
                .reset_password(actor, &name, &form.password.unwrap_or_default())
                .await
        }
        Action::Delete => rbac.users().delete(actor, &name).await,
    };
    match done {
        Ok(()) => Redirect::to("/admin/users").into_response(),
        Err(e) if super::needs_step_up(&e) => super::to_step_up(),
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            render(
                app,
                actor,
                headers,
                &ListQuery::default(),
                Some((status, text)),
            )
            .await
        }
    }
}
