//! The overview: how many users and live sessions, and the last 24 hours of logins and
//! failed logins as a small chart drawn on the server (SVG with presentation attributes,
//! no `style`: the policy allows no inline style).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{html, Markup};
use rbac_core::service::Hourly;
use rbac_core::{now, Order, Page, UserQuery};

use super::layout::{page, Viewer};
use super::{cookie, csrf_token, Lang, SESSION_COOKIE};
use crate::http::Actor;
use crate::state::AppState;

/// Hours the chart covers.
const HOURS: usize = rbac_core::service::ACTIVITY_HOURS;

/// The overview page.
pub(super) async fn overview(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let csrf = csrf_token(&cookie(&headers, SESSION_COOKIE).unwrap_or_default());
    let users = app
        .rbac
        .users()
        .list(
            &actor,
            &UserQuery {
                name_contains: None,
                member_of: None,
                order: Order::OldestFirst,
                page: Page {
                    offset: 0,
                    limit: Some(0),
                },
            },
        )
        .await
        .ok()
        .map(|l| l.total);
    // The whole server's count is for those who may see its users.
    let sessions = match app.rbac.authorizer().require_code(&actor, "UserAccess") {
        Ok(()) => app.rbac.store().count_live_sessions(now()).await.ok(),
        Err(_) => None,
    };
    let hourly = hourly(&app, &actor).await;
    let number = |n: Option<u64>| n.map_or_else(|| "—".to_string(), |n| n.to_string());
    let body = html! {
        h1 { (lang.t("overview")) }
        section.tiles {
            div.tile { span.label { (lang.t("users")) } span.value #users-total { (number(users)) } }
            div.tile { span.label { (lang.t("active_sessions")) } span.value #sessions-total { (number(sessions)) } }
            div.tile { span.label { (lang.t("logins")) " · " (lang.t("last_24h")) } span.value { (hourly.logins.iter().sum::<u64>()) } }
            div.tile { span.label { (lang.t("failures")) " · " (lang.t("last_24h")) } span.value { (hourly.failures.iter().sum::<u64>()) } }
        }
        section.card {
            h2 { (lang.t("last_24h")) }
            (chart(lang, &hourly))
        }
    };
    let viewer = Viewer::of(&app.rbac, &actor, &csrf);
    page(lang, lang.t("overview"), Some(&viewer), body)
}

/// Logins and failed logins of the last 24 hours per hour, as this instance counted them
/// when they happened (the chart reads no log rows: a page view costs the same however busy
/// the server is). Shown to those who may read everyone's log (UserAccess); others see none.
async fn hourly(app: &AppState, actor: &rbac_core::Principal) -> Hourly {
    match app.rbac.authorizer().require_code(actor, "UserAccess") {
        Ok(()) => app.rbac.audit().login_activity(),
        Err(_) => Hourly::default(),
    }
}

/// Two bars per hour, logins and failures, scaled to the busiest hour.
fn chart(lang: Lang, h: &Hourly) -> Markup {
    const W: u64 = 720;
    const H: u64 = 160;
    let slot = W / HOURS as u64;
    let peak = h
        .logins
        .iter()
        .chain(h.failures.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let height = |n: u64| n * (H - 20) / peak;
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H + 20) } role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" {
            title #chart-title { (lang.t("logins")) " / " (lang.t("failures")) " · " (lang.t("last_24h")) }
            line x1="0" y1=(H) x2=(W) y2=(H) stroke="#8a8f98" stroke-width="1" {}
            @for i in 0..HOURS {
                @let x = i as u64 * slot;
                @let ok = height(h.logins[i]);
                @let bad = height(h.failures[i]);
                rect.login x=(x + 2) y=(H - ok) width=(slot / 2 - 2) height=(ok) fill="#2f855a" {
                    title { (h.logins[i]) " " (lang.t("logins")) }
                }
                rect.failure x=(x + slot / 2) y=(H - bad) width=(slot / 2 - 2) height=(bad) fill="#c53030" {
                    title { (h.failures[i]) " " (lang.t("failures")) }
                }
            }
            text x="0" y=(H + 16) font-size="12" fill="#4a5568" { "-24h" }
            text x=(W) y=(H + 16) font-size="12" fill="#4a5568" text-anchor="end" { (lang.t("now")) }
            g.legend {
                rect x=(W - 200) y="2" width="10" height="10" fill="#2f855a" {}
                text x=(W - 186) y="11" font-size="12" fill="#4a5568" { (lang.t("logins")) }
                rect x=(W - 100) y="2" width="10" height="10" fill="#c53030" {}
                text x=(W - 86) y="11" font-size="12" fill="#4a5568" { (lang.t("failures")) }
            }
        }
    }
}
