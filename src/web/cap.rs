//! The station's alerts as CAP 1.2 for other systems to relay (a city's public-alert portal,
//! digital signage): `GET /cap/{station}.atom` lists every message the station published
//! (each alert, and each correction, all-clear and withdrawal as an Update or Cancel that
//! references what it supersedes), newest first; `GET /cap/alerts/{identifier}.xml` is one
//! message. A relayed official warning names where it came from in its `<note>`. Alerts sent to
//! hotel front desks only (`to=liaison`) are not published: they were never public.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::WebState;
use crate::cap::model::{Reference, format_time};
use crate::cap::{CapMessage, Info, MsgType, Status, write};
use crate::store::alerts::Alert;
use crate::store::cap::{self, Published};
use crate::store::{alerts, stations};

/// How many messages the feed lists.
const FEED_LENGTH: i64 = 200;

fn base_url(state: &WebState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The station's CAP sender: `{station}@{host of web.public_url}` (`beatbot.local` when it is
/// unset: never the request's Host header, so every copy of a message names the same sender).
fn sender(station: &str, public_url: Option<&url::Url>) -> String {
    let host = public_url.and_then(|u| u.host_str()).unwrap_or("beatbot.local");
    format!("{station}@{host}")
}

fn xml(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn failed(e: anyhow::Error) -> Response {
    tracing::warn!(error = %format!("{e:#}"), "CAP export failed");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

pub async fn station_feed(State(state): State<WebState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(station) = file.strip_suffix(".atom") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let base = base_url(&state, &headers);
    let tz = state.app.scripts.settings.timezone;
    let found = async {
        let mut tx = state.app.store.begin_read().await?;
        let row = stations::get(&mut tx, station).await?;
        let entries = match row {
            Some(_) => cap::published_of_station(&mut tx, station, FEED_LENGTH).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        anyhow::Ok(row.map(|r| (r, entries)))
    }
    .await;
    let (row, published) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return failed(e),
    };
    let entries: Vec<write::FeedEntry> = published
        .iter()
        .map(|p| write::FeedEntry {
            title: format!(
                "{}: {}",
                p.msg_type,
                p.headline.as_deref().filter(|h| !h.is_empty()).unwrap_or(&p.text)
            ),
            summary: p.text.clone(),
            updated: format_time(p.sent_at, tz),
            link: format!("{base}/cap/alerts/{}.xml", p.identifier),
        })
        .collect();
    let updated = published.first().map(|p| p.sent_at).unwrap_or_else(|| state.app.now());
    let body = write::atom(
        &format!("{base}/cap/{station}.atom"),
        &format!("{} — CAP alerts", row.name),
        &format_time(updated, tz),
        &format!("{base}/cap/{station}.atom"),
        &entries,
    );
    xml("application/atom+xml; charset=utf-8", body)
}

pub async fn message(State(state): State<WebState>, Path(file): Path<String>) -> Response {
    let Some(identifier) = file.strip_suffix(".xml") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = async {
        let mut tx = state.app.store.begin_read().await?;
        let Some(p) = cap::published(&mut tx, identifier).await? else {
            tx.commit().await?;
            return anyhow::Ok(None);
        };
        let alert = alerts::get(&mut tx, p.alert_id).await?;
        let earlier = cap::published_of_alert(&mut tx, p.alert_id).await?;
        let station = stations::get(&mut tx, &p.station_id).await?;
        tx.commit().await?;
        // An alert for hotel front desks only is not published (it was never public).
        let alert = alert.filter(|a| a.audience != crate::domain::AlertAudience::Liaison);
        Ok(alert.zip(station).map(|(a, s)| (p, a, earlier, s)))
    }
    .await;
    match found {
        Ok(Some((p, alert, earlier, station))) => {
            let tz = state.app.scripts.settings.timezone;
            let m = cap_message(
                &p,
                &alert,
                &earlier,
                &station,
                &sender(&p.station_id, state.public_url.as_ref()),
                tz,
            );
            xml(
                "application/cap+xml; charset=utf-8",
                write::message(&m, &|ms| format_time(ms, tz)),
            )
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => failed(e),
    }
}

/// One published message as CAP.
pub fn cap_message(
    p: &Published,
    alert: &Alert,
    all: &[Published],
    station: &stations::Station,
    sender: &str,
    tz: chrono_tz::Tz,
) -> CapMessage {
    let references = all
        .iter()
        .filter(|e| e.sent_at < p.sent_at || (e.sent_at == p.sent_at && e.identifier < p.identifier))
        .map(|e| Reference {
            sender: sender.to_owned(),
            identifier: e.identifier.clone(),
            sent: format_time(e.sent_at, tz),
        })
        .collect();
    let msg_type = MsgType::from_db(&p.msg_type).unwrap_or(MsgType::Alert);
    let mut area = alert.cap.area.clone();
    if area.description.is_empty() {
        area.description = station.name.clone();
    }
    let language = if station.lang.code() == "zh" { "zh-CN" } else { "en-US" };
    let info = Info {
        language: language.to_owned(),
        categories: vec![alert.cap.category],
        event: alert.cap.event.clone().unwrap_or_else(|| "Alert".to_owned()),
        response_types: p.response_type.iter().cloned().collect(),
        urgency: alert.cap.urgency,
        severity: alert.cap.severity,
        certainty: alert.cap.certainty,
        effective_ms: alert.cap.effective_at,
        onset_ms: None,
        expires_ms: alert.cap.expires_at,
        sender_name: Some(station.name.clone()),
        headline: alert.cap.headline.clone(),
        description: Some(p.text.clone()),
        instruction: alert.cap.instruction.clone(),
        web: None,
        areas: vec![area],
    };
    CapMessage {
        identifier: p.identifier.clone(),
        sender: sender.to_owned(),
        sent: format_time(p.sent_at, tz),
        sent_ms: p.sent_at,
        status: Status::Actual,
        msg_type,
        scope: "Public".to_owned(),
        references,
        note: (alert.cap.source != "officer").then(|| format!("Relayed from {}", alert.cap.source)),
        infos: vec![info],
    }
}
