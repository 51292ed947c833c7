//! The web server (axum): Telegram's webhook ingress, a health check and Prometheus metrics
//! (`GET /metrics`). [`router`] builds the routes so tests drive them without a socket.
//!
//! A webhook request is accepted only with the secret Telegram was given at `setWebhook`
//! (`X-Telegram-Bot-Api-Secret-Token`), and answered `200` only after the update's transaction
//! has committed: an error answers `500`, Telegram sends the update again, and the inbound
//! dedupe keeps its effects single.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use teloxide::Bot;
use teloxide::types::Update;

use crate::app::App;
use crate::fault_log::FaultLog;
use crate::platforms::telegram;

mod cap;

/// What the webhook needs: the bot, its username (for mentions) and the shared secret.
#[derive(Clone)]
pub struct TelegramWebhook {
    pub bot: Bot,
    pub username: String,
    pub secret: Arc<str>,
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub telegram: Option<TelegramWebhook>,
    /// Where the server is reached from outside, for absolute links (the CAP feed's).
    pub public_url: Option<url::Url>,
}

/// The routes: `GET /healthz`, `GET /metrics`, `POST /telegram/webhook`, and the CAP feed
/// (`GET /cap/{station}.atom`, `GET /cap/alerts/{identifier}.xml`).
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/cap/{file}", get(cap::station_feed))
        .route("/cap/alerts/{file}", get(cap::message))
        .route("/telegram/webhook", post(telegram_webhook))
        .with_state(state)
}

/// The metrics in Prometheus's text format, with the outbox figures read now.
async fn metrics(
    State(state): State<WebState>,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], String), StatusCode> {
    let figures = async {
        let mut tx = state.app.store.begin_read().await?;
        let queue = crate::store::outbox::queue_figures(&mut tx).await?;
        tx.commit().await?;
        anyhow::Ok(queue)
    }
    .await;
    let metrics = crate::metrics::get();
    match figures {
        Ok(queue) => metrics.set_queue(&queue),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "metrics: could not read the outbox");
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    ))
}

/// Compares without stopping at the first difference, so the secret cannot be guessed byte by
/// byte from response times.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn telegram_webhook(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(hook) = &state.telegram else {
        return StatusCode::NOT_FOUND;
    };
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same_secret(given, hook.secret.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Ok(update) = serde_json::from_str::<Update>(text) else {
        return StatusCode::BAD_REQUEST;
    };
    static WEBHOOK: FaultLog = FaultLog::new("handling webhook updates (Telegram resends them)");
    if let Err(e) = telegram::handle_update(&state.app, &hook.bot, &hook.username, &update).await {
        WEBHOOK.failed(&e);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    WEBHOOK.worked();
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_must_match_exactly() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3creT", b"s3cret"));
        assert!(!same_secret(b"", b"s3cret"));
    }
}
