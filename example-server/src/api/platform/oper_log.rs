//! The operation log.

use super::*;
use crate::api::envelope::streamed_page;
use crate::api::stream::List;
use axum::response::Response;
use rbac_core::AuditEntry;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::OperLogReq)]
pub(super) struct OperLogReq {
    page_no: Option<u64>,
    page_size: Option<u64>,
    oper_user: Option<String>,
    oper_type: Option<i32>,
    start_time: Option<Value>,
    end_time: Option<Value>,
}

fn time_bound(field: &'static str, value: Option<Value>) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_datetime(&s)
            .or_else(|| s.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(field, "expected \"YYYY-MM-DD HH:MM:SS\" or unix seconds").into()
            }),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::invalid(field, "expected unix seconds").into()),
        Some(_) => Err(PlatformError::new(
            Code::InvalidJsonOrRequiredParams,
            format!("{field} must be a string or a number"),
        )),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/oper-log",
    tag = "platform",
    operation_id = "platform_list_oper_log",
    summary = "The operation log, filtered and paged",
    description = "Any logged-in user. Users without `UserAccess` see their own entries only.",
    request_body = OperLogReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LogPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_oper_log(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<OperLogReq>,
) -> Result<Response> {
    let category = match req.oper_type {
        None | Some(0) => None,
        Some(c @ 1..=5) => Some(c),
        Some(_) => return Err(Error::invalid("oper_type", "must be 0 to 5").into()),
    };
    let filter = AuditFilter {
        user_name: req.oper_user,
        category,
        from: time_bound("start_time", req.start_time)?,
        to: time_bound("end_time", req.end_time)?,
        page: page(req.page_no, req.page_size),
    };
    let turn = app.listings.admit(&filter.page, actor.user_id).await?;
    let rows = app.rbac.audit().rows(&actor, filter).await?;
    let rows = rows.with_chunk(app.listings.chunk());
    let data = LogPage {
        list: List::Streamed,
    };
    streamed_page(data, rows, log_row, turn).await
}

/// A `list/oper-log` row: names and contents rendered as data.
fn log_row(e: AuditEntry) -> LogRow {
    LogRow {
        oper_user: as_data(&e.user_name),
        oper_type: e.category,
        oper_time: datetime(e.time),
        oper_content: as_data(&e.content),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ListDeliveryReq)]
pub(super) struct ListDeliveryReq {
    /// How many, newest first (1 to 1000; 100 when absent).
    limit: Option<u32>,
}

/// One security event's delivery to one webhook.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::DeliveryRow)]
pub struct DeliveryRow {
    /// The event's id, as the receiver sees it.
    event_id: String,
    /// Its type (`login.failed`, `password.reset`, ...).
    event_type: String,
    /// Unix seconds.
    created_at: i64,
    webhook: String,
    attempts: u32,
    /// Unix seconds; absent while undelivered.
    delivered_at: Option<i64>,
    /// Unix seconds of the next attempt, while undelivered.
    next_at: i64,
    last_error: String,
}

/// `list/webhook-delivery`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::DeliveryPage)]
pub struct DeliveryPage {
    deliveries: Vec<DeliveryRow>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/webhook-delivery",
    tag = "platform",
    operation_id = "platform_list_webhook_delivery",
    summary = "Security events' deliveries to the webhooks, newest first",
    description = "Beyond the document. The built-in admin alone (else 1000): events name every user and their addresses.",
    request_body = ListDeliveryReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<DeliveryPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_webhook_delivery(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ListDeliveryReq>,
) -> Result<Reply> {
    let rows = app
        .rbac
        .audit()
        .deliveries(&actor, req.limit.unwrap_or(100))
        .await?;
    let count = rows.len();
    let deliveries = rows
        .into_iter()
        .map(|d| DeliveryRow {
            event_id: d.event_id,
            event_type: d.kind,
            created_at: d.created_at,
            webhook: d.target,
            attempts: d.attempts,
            delivered_at: d.delivered_at,
            next_at: d.next_at,
            last_error: d.last_error,
        })
        .collect();
    Ok(Reply::page_of(
        DeliveryPage { deliveries },
        count as u64,
        count,
    ))
}
