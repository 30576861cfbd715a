//! The signed-in user's projects and their API keys: listed (the key, never the secret),
//! created (the secret shown this once) and placed in the owner's scope as the gateway
//! places them, deleted as the gateway deletes them (the key stops working at once).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rbac_core::{ApiKey, Page, Principal};
use serde::Deserialize;

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::{datetime, Actor};
use crate::state::AppState;

/// The projects page.
pub(super) async fn projects(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    render(&app, &actor, &headers, None, None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    created: Option<&ApiKey>,
    refusal: Option<String>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    let listing = app.rbac.keys().list(actor, None, Page::default()).await;
    let today = rbac_core::utc_day(rbac_core::now());
    let body = html! {
        h1 { (lang.t("projects")) }
        @if let Some(text) = &refusal { (notice(text)) }
        @if let Some(p) = created {
            section.card.once #new-project {
                h2 { (p.name) }
                p { (lang.t("secret_once")) }
                dl {
                    dt { (lang.t("api_key")) } dd { code #project-key { (p.key) } }
                    dt { (lang.t("api_secret")) } dd { code #project-secret { (p.secret) } }
                }
            }
        }
        @match &listing {
            Err(e) => { (notice(&e.to_string())) }
            Ok(listing) => {
                table {
                    thead { tr {
                        th scope="col" { (lang.t("project")) }
                        th scope="col" { (lang.t("api_key")) }
                        th scope="col" { (lang.t("requests_today")) }
                        th scope="col" { (lang.t("signed_in")) }
                        th scope="col" { (lang.t("actions")) }
                    } }
                    tbody {
                        @for p in &listing.rows {
                            tr data-project=(p.id) {
                                td { (p.name) }
                                td { code { (p.key) } }
                                td { (p.requests_on(today)) " / " (p.daily_limit.unwrap_or(0)) }
                                td { (datetime(p.created_at)) }
                                td {
                                    form.inline method="post" action="/admin/projects/delete" {
                                        (csrf_field(&csrf))
                                        input type="hidden" name="id" value=(p.id);
                                        button.danger type="submit" { (lang.t("delete")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { (lang.t("create_project")) }
            form #create-project method="post" action="/admin/projects/create" {
                (csrf_field(&csrf))
                label for="project-name" { (lang.t("project")) }
                input #project-name name="name" type="text" required;
                button type="submit" { (lang.t("create")) }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    page(lang, lang.t("projects"), Some(&viewer), body)
}

#[derive(Debug, Deserialize)]
pub(super) struct ProjectForm {
    name: Option<String>,
    id: Option<i64>,
}

/// Creates a project for the caller: its secret is shown this once.
pub(super) async fn create(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<ProjectForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let name = form.name.unwrap_or_default();
    let created = crate::api::gateway::projects::create(&app, &actor, name.trim(), 1).await;
    match created {
        Ok(project) => render(&app, &actor, &headers, Some(&project), None).await,
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            let mut resp = render(&app, &actor, &headers, None, Some(text)).await;
            *resp.status_mut() = status;
            resp
        }
    }
}

/// Deletes one of the caller's projects.
pub(super) async fn delete(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm<ProjectForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let deleted =
        crate::api::gateway::projects::delete(&app.rbac, &actor, form.id.unwrap_or(0)).await;
    match deleted {
        Ok(()) => Redirect::to("/admin/projects").into_response(),
        Err(e) if super::needs_step_up(&e) => super::to_step_up(),
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            let mut resp = render(&app, &actor, &headers, None, Some(text)).await;
            *resp.status_mut() = status;
            resp
        }
    }
}
