//! The operation log (filtered by user, type and time, paged), the security events'
//! webhook deliveries (the built-in admin's), and another user's sessions (listed with
//! UserAccess, ended with UserEdit, within the containment rule).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rbac_core::service::{as_data, AuditFilter};
use rbac_core::Page;
use serde::Deserialize;

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::{datetime, parse_datetime, Actor};
use crate::state::AppState;

/// Entries per page.
const PER_PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct LogQuery {
    user: Option<String>,
    category: Option<i32>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
}

/// The operation log.
pub(super) async fn log(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let csrf = csrf_token(&cookie(&headers, SESSION_COOKIE).unwrap_or_default());
    let page_no = q.page.unwrap_or(0);
    let time = |t: &Option<String>| {
        t.as_deref()
            .filter(|t| !t.is_empty())
            .and_then(parse_datetime)
    };
    let filter = AuditFilter {
        user_name: q.user.clone().filter(|u| !u.is_empty()),
        category: q.category.filter(|c| *c > 0),
        from: time(&q.from),
        to: time(&q.to),
        page: Page {
            offset: page_no.saturating_mul(PER_PAGE),
            limit: Some(PER_PAGE),
        },
    };
    let listing = app.rbac.audit().list(&actor, filter).await;
    let categories = [
        (0, lang.t("all")),
        (1, lang.t("home")),
        (2, lang.t("system")),
        (3, lang.t("projects")),
    ];
    let chosen = q.category.unwrap_or(0);
    let link = |p: u64| {
        let query = serde_urlencoded::to_string([
            ("user", q.user.clone().unwrap_or_default()),
            ("category", chosen.to_string()),
            ("from", q.from.clone().unwrap_or_default()),
            ("to", q.to.clone().unwrap_or_default()),
            ("page", p.to_string()),
        ])
        .unwrap_or_default();
        format!("/admin/log?{query}")
    };
    let body = html! {
        h1 { (lang.t("log")) }
        form.search method="get" action="/admin/log" {
            label for="log-user" { (lang.t("user_name")) }
            input #log-user name="user" type="search" value=(q.user.clone().unwrap_or_default());
            label for="log-category" { (lang.t("type")) }
            select #log-category name="category" {
                @for (n, label) in categories {
                    option value=(n) selected[n == chosen] { (label) }
                }
            }
            label for="log-from" { (lang.t("from")) }
            input #log-from name="from" type="text" placeholder="2026-01-01 00:00:00" value=(q.from.clone().unwrap_or_default());
            label for="log-to" { (lang.t("to")) }
            input #log-to name="to" type="text" placeholder="2026-12-31 23:59:59" value=(q.to.clone().unwrap_or_default());
            button type="submit" { (lang.t("search")) }
        }
        @match &listing {
            Err(e) => { (notice(&e.to_string())) }
            Ok(listing) => {
                table.log {
                    thead { tr {
                        th scope="col" { (lang.t("when")) }
                        th scope="col" { (lang.t("user_name")) }
                        th scope="col" { (lang.t("what")) }
                        th scope="col" { (lang.t("state")) }
                    } }
                    tbody {
                        @for e in &listing.rows {
                            tr {
                                td { (datetime(e.time)) }
                                td { (as_data(&e.user_name)) }
                                td { (as_data(&e.content)) }
                                td { @if e.success { "✓" } @else { "✗" } }
                            }
                        }
                    }
                }
                nav.pager aria-label=(lang.t("pages")) {
                    @if page_no > 0 { a href=(link(page_no - 1)) rel="prev" { "‹ " (lang.t("previous")) } }
                    span { (page_no.saturating_add(1)) }
                    @if page_no.saturating_add(1).saturating_mul(PER_PAGE) < listing.total { a href=(link(page_no.saturating_add(1))) rel="next" { (lang.t("next")) " ›" } }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, &actor, &csrf);
    page(lang, lang.t("log"), Some(&viewer), body)
}

/// The security events' webhook deliveries (the built-in admin's).
pub(super) async fn deliveries(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let csrf = csrf_token(&cookie(&headers, SESSION_COOKIE).unwrap_or_default());
    let events = app.rbac.audit().security_events(&actor, 200).await;
    let rows = app.rbac.audit().deliveries(&actor, 200).await;
    let body = html! {
        h1 { (lang.t("events")) }
        @if let Ok(events) = &events {
            table #security-events {
                caption { (lang.t("recent_events")) }
                thead { tr {
                    th scope="col" { (lang.t("when")) }
                    th scope="col" { (lang.t("type")) }
                    th scope="col" { (lang.t("subject")) }
                    th scope="col" { (lang.t("actor")) }
                    th scope="col" { (lang.t("address")) }
                    th scope="col" { (lang.t("what")) }
                } }
                tbody {
                    @for e in events {
                        tr {
                            td { (datetime(e.created_at)) }
                            td { code { (e.kind) } }
                            td { (e.subject) }
                            td { (e.actor) }
                            td { (e.ip) }
                            td { (e.detail) }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("deliveries")) }
        @match &rows {
            Err(e) => { (notice(&e.to_string())) }
            Ok(rows) => {
                @if rows.is_empty() { p.muted { (lang.t("no_deliveries")) } }
                table {
                    thead { tr {
                        th scope="col" { (lang.t("when")) }
                        th scope="col" { (lang.t("type")) }
                        th scope="col" { (lang.t("target")) }
                        th scope="col" { (lang.t("attempts")) }
                        th scope="col" { (lang.t("state")) }
                    } }
                    tbody {
                        @for d in rows {
                            tr {
                                td { (datetime(d.created_at)) }
                                td { code { (d.kind) } }
                                td { (d.target) }
                                td { (d.attempts) }
                                td {
                                    @match d.delivered_at {
                                        Some(t) => { (lang.t("delivered")) " " (datetime(t)) }
                                        None => { (lang.t("pending")) " · " (d.last_error) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, &actor, &csrf);
    let mut resp = page(lang, lang.t("events"), Some(&viewer), body);
    if rows.is_err() {
        *resp.status_mut() = StatusCode::FORBIDDEN;
    }
    resp
}

#[derive(Debug, Deserialize)]
pub(super) struct UserSessionsQuery {
    user: Option<String>,
}

/// Another user's sessions (UserAccess, within the caller).
pub(super) async fn user_sessions(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    Query(q): Query<UserSessionsQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let csrf = csrf_token(&cookie(&headers, SESSION_COOKIE).unwrap_or_default());
    let user = q.user.unwrap_or_default();
    let sessions = app.rbac.sessions().of_user(&actor, &user).await;
    let body = html! {
        h1 { (lang.t("sessions_of")) " " (user) }
        @match &sessions {
            Err(e) => { (notice(&e.to_string())) }
            Ok(rows) => {
                form method="post" action="/admin/sessions/end" {
                    (csrf_field(&csrf))
                    input type="hidden" name="user" value=(user);
                    button.danger #end-all type="submit" { (lang.t("end_all")) }
                }
                table {
                    thead { tr {
                        th scope="col" { (lang.t("signed_in")) }
                        th scope="col" { (lang.t("address")) }
                        th scope="col" { (lang.t("device")) }
                        th scope="col" { (lang.t("last_used")) }
                        th scope="col" { (lang.t("factors")) }
                        th scope="col" { (lang.t("actions")) }
                    } }
                    tbody {
                        @for s in rows {
                            tr data-session=(s.handle) {
                                td { (datetime(s.created_at)) }
                                td { (s.ip) }
                                td.device { (s.user_agent) }
                                td { (datetime(s.last_seen)) }
                                td { (s.factors.names().join(" + ")) }
                                td {
                                    form.inline method="post" action="/admin/sessions/end" {
                                        (csrf_field(&csrf))
                                        input type="hidden" name="user" value=(user);
                                        input type="hidden" name="handle" value=(s.handle);
                                        button.secondary type="submit" { (lang.t("end")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, &actor, &csrf);
    let mut resp = page(lang, lang.t("sessions_of"), Some(&viewer), body);
    if let Err(e) = &sessions {
        *resp.status_mut() = super::refusal(lang, e).0;
    }
    resp
}

#[derive(Debug, Deserialize)]
pub(super) struct EndForm {
    user: Option<String>,
    handle: Option<String>,
}

/// Ends one or all of another user's sessions (UserEdit, within the caller).
pub(super) async fn end_sessions(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<EndForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let user = form.user.unwrap_or_default();
    match app
        .rbac
        .sessions()
        .end(&actor, Some(&user), form.handle.as_deref())
        .await
    {
        Ok(_) => {
            let query = serde_urlencoded::to_string([("user", user.as_str())]).unwrap_or_default();
            Redirect::to(&format!("/admin/sessions?{query}")).into_response()
        }
        Err(e) if super::needs_step_up(&e) => super::to_step_up(),
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            let body = html! { (notice(&text)) a href="/admin/users" { (lang.t("users")) } };
            let mut resp = page(lang, lang.t("sessions_of"), None, body);
            *resp.status_mut() = status;
            resp
        }
    }
}
