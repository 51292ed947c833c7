//! Polls the `[[feeds]]` of official CAP warnings, politely: a conditional GET (ETag,
//! Last-Modified) every feed's interval, backing off (doubling, up to an hour) while a feed
//! fails. A feed that cannot be fetched or read, or a message in it that cannot be read, is
//! logged with the feed and the reason and never stops the others. Messages are handed to
//! [`crate::core::warnings::ingest`], which handles each once. Runs on the replica that runs
//! the scheduler; another replica polling too would only find the messages handled.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::app::App;
use crate::cap::{CapMessage, read};
use crate::core::warnings::{self, Outcome};
use crate::feeds::Feed;
use crate::store::cap::{self, FeedState};

/// The longest a failing feed is left alone.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// A feed larger than this is refused (a feed of warnings is a few hundred kilobytes).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Polls every feed when due until `shutdown` fires.
pub async fn run(app: App, feeds: Vec<Feed>, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Result<()> {
    if feeds.is_empty() {
        return Ok(());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("beatbot/", env!("CARGO_PKG_VERSION"), " (CAP feed reader)"))
        .build()
        .context("building the feed reader's HTTP client")?;
    // Links already fetched and handled, per feed: a feed lists the same entries poll after poll.
    let mut fetched: Vec<HashSet<String>> = vec![HashSet::new(); feeds.len()];
    loop {
        let now = app.now();
        let mut next = now + 60_000;
        for (feed, seen) in feeds.iter().zip(&mut fetched) {
            let state = match load_state(&app, &feed.name).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(feed = %feed.name, error = %format!("{e:#}"), "could not read the feed's state");
                    continue;
                }
            };
            let due = if state.next_poll_at <= now {
                poll(&app, &client, feed, state, seen).await
            } else {
                state.next_poll_at
            };
            next = next.min(due);
        }
        let wait = Duration::from_millis((next - app.now()).clamp(200, 60_000) as u64);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

async fn load_state(app: &App, feed: &str) -> Result<FeedState> {
    let mut tx = app.store.begin_read().await?;
    let state = cap::feed_state(&mut tx, feed).await?;
    tx.commit().await?;
    Ok(state)
}

/// One poll of `feed`; returns when it is next due.
pub async fn poll(
    app: &App,
    client: &reqwest::Client,
    feed: &Feed,
    mut state: FeedState,
    seen: &mut HashSet<String>,
) -> i64 {
    let result = fetch_and_handle(app, client, feed, &mut state, seen).await;
    let now = app.now();
    let interval = feed.interval.as_millis() as i64;
    match result {
        Ok(()) => {
            if state.failures > 0 {
                tracing::info!(feed = %feed.name, "the feed answers again");
            }
            state.failures = 0;
            state.next_poll_at = now + interval;
        }
        Err(e) => {
            state.failures += 1;
            let backoff = (interval.saturating_mul(1 << state.failures.min(12))).min(MAX_BACKOFF.as_millis() as i64);
            state.next_poll_at = now + backoff;
            tracing::warn!(
                feed = %feed.name,
                url = %feed.url,
                failures = state.failures,
                retry_in_secs = backoff / 1000,
                error = %format!("{e:#}"),
                "could not read the CAP feed"
            );
        }
    }
    let saved = async {
        let mut tx = app.store.begin().await?;
        cap::set_feed_state(&mut tx, &feed.name, &state).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = saved {
        tracing::warn!(feed = %feed.name, error = %format!("{e:#}"), "could not save the feed's state");
    }
    state.next_poll_at
}

async fn fetch_and_handle(
    app: &App,
    client: &reqwest::Client,
    feed: &Feed,
    state: &mut FeedState,
    seen: &mut HashSet<String>,
) -> Result<()> {
    let mut request = client.get(feed.url.clone());
    if let Some(etag) = &state.etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &state.last_modified {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
    }
    let response = request.send().await.context("no answer")?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(());
    }
    if !response.status().is_success() {
        bail!("the server answered {}", response.status());
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, modified) = (header(reqwest::header::ETAG), header(reqwest::header::LAST_MODIFIED));
    let body = body_text(response).await?;
    let entries = read::feed(&body).context("not a CAP feed")?;
    for message in entries.messages {
        match message {
            Ok(m) => handle(app, feed, &m).await?,
            Err(e) => {
                tracing::warn!(feed = %feed.name, error = %format!("{e:#}"), "a CAP message in the feed could not be read; skipped")
            }
        }
    }
    // A linked message that could not be fetched this time must be asked for again: the feed's
    // validators are then not kept, so the next poll reads the feed in full.
    let mut fetch_again = false;
    for link in entries.links {
        if seen.contains(&link) {
            continue;
        }
        let Ok(url) = feed.url.join(&link) else {
            tracing::warn!(feed = %feed.name, link, "an entry's link is not a URL; skipped");
            continue;
        };
        match fetch_message(client, url.clone()).await {
            Ok(m) => {
                handle(app, feed, &m).await?;
                seen.insert(link);
            }
            // A linked message that is unreadable stays so: logged once, not fetched again.
            Err(e) if e.downcast_ref::<Unreadable>().is_some() => {
                tracing::warn!(feed = %feed.name, url = %url, error = %format!("{e:#}"), "a CAP message could not be read; skipped");
                seen.insert(link);
            }
            Err(e) => {
                fetch_again = true;
                tracing::warn!(feed = %feed.name, url = %url, error = %format!("{e:#}"), "a CAP message could not be fetched; tried again next poll");
            }
        }
    }
    if fetch_again {
        state.etag = None;
        state.last_modified = None;
    } else {
        state.etag = etag;
        state.last_modified = modified;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unreadable(String);

async fn fetch_message(client: &reqwest::Client, url: url::Url) -> Result<CapMessage> {
    let response = client.get(url).send().await.context("no answer")?;
    if !response.status().is_success() {
        bail!("the server answered {}", response.status());
    }
    let body = body_text(response).await?;
    read::message(&body).map_err(|e| Unreadable(format!("{e:#}")).into())
}

/// The answer's body as text, refused past [`MAX_BODY`] as it arrives (a chunked answer has no
/// length to check first), decoded as its header or XML declaration says.
async fn body_text(mut response: reqwest::Response) -> Result<String> {
    if response.content_length().is_some_and(|n| n as usize > MAX_BODY) {
        bail!("larger than {} MB", MAX_BODY / 1024 / 1024);
    }
    let charset = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("charset=")))
        .map(|c| c.trim_matches('"').to_owned());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.context("the answer broke off")? {
        if bytes.len() + chunk.len() > MAX_BODY {
            bail!("larger than {} MB", MAX_BODY / 1024 / 1024);
        }
        bytes.extend_from_slice(&chunk);
    }
    decode(&bytes, charset.as_deref())
}

/// XML bytes as text: in the encoding the HTTP header names, else the one the XML declaration
/// names (`<?xml version="1.0" encoding="GBK"?>`), else UTF-8 (XML's default). Bytes that are not
/// valid in it are refused, not replaced.
pub fn decode(bytes: &[u8], header_charset: Option<&str>) -> Result<String> {
    let declared = || {
        let head = &bytes[..bytes.len().min(200)];
        let head = String::from_utf8_lossy(head);
        let decl = head
            .strip_prefix('\u{feff}')
            .unwrap_or(&head)
            .strip_prefix("<?xml")?
            .split("?>")
            .next()?
            .to_owned();
        let after = decl.split("encoding=").nth(1)?;
        let quote = after.chars().next()?;
        after[quote.len_utf8()..].split(quote).next().map(str::to_owned)
    };
    let label = header_charset.map(str::to_owned).or_else(declared);
    let encoding = match label {
        Some(label) => {
            encoding_rs::Encoding::for_label(label.as_bytes()).with_context(|| format!("unknown encoding {label:?}"))?
        }
        None => encoding_rs::UTF_8,
    };
    let (text, _, malformed) = encoding.decode(bytes);
    if malformed {
        bail!("not valid {} text", encoding.name());
    }
    Ok(text.into_owned())
}

async fn handle(app: &App, feed: &Feed, m: &CapMessage) -> Result<()> {
    let outcome = warnings::ingest(app, feed, m).await?;
    match &outcome {
        Outcome::Seen => {}
        Outcome::Ignored(why) => {
            tracing::info!(feed = %feed.name, identifier = %m.identifier, why, "CAP message not acted on")
        }
        other => tracing::info!(feed = %feed.name, identifier = %m.identifier, outcome = ?other, "CAP message handled"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn gbk_feeds_are_read_as_their_declaration_says() {
        let text = "<?xml version=\"1.0\" encoding=\"GBK\"?><alert><headline>暴雨橙色预警</headline></alert>";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(super::decode(&gbk, None).unwrap(), text);
        assert_eq!(
            super::decode(&gbk, Some("gb2312")).unwrap(),
            text,
            "the header's name wins"
        );
        assert!(super::decode(&gbk, Some("utf-8")).is_err(), "GBK bytes are not UTF-8");
        assert_eq!(super::decode("<a>暴雨</a>".as_bytes(), None).unwrap(), "<a>暴雨</a>");
        assert!(super::decode(b"<a>\xff</a>", None).is_err());
        // A declaration written with typographic quotes names nothing usable; never a panic.
        assert!(super::decode("<?xml encoding=“GBK”?><a/>".as_bytes(), None).is_err());
    }
}
