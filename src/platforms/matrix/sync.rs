//! The Matrix sync loop. The first sync of a new account only learns where "now" is (old
//! messages are not answered); after that every timeline event is converted and handled, and
//! the sync token is committed to the database only once all of them are. Invites from
//! allowed servers are joined (with retries: a fresh invite is sometimes not joinable at once),
//! others rejected; a group the bot joins is told how to link it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use matrix_sdk::Client;
use matrix_sdk::config::{SyncSettings, SyncToken};
use matrix_sdk::ruma::events::AnyStrippedStateEvent;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{OwnedRoomId, UserId};

use super::SYNC_TOKEN_KEY;
use super::convert::{convert, resolve_choice};
use crate::app::App;
use crate::core::{Content, Inbound};
use crate::domain::Platform;
use crate::store::platform_state;

/// Attempts at one event before it is skipped (logged) so later events are not held up.
const MAX_TRIES_PER_EVENT: u32 = 5;
const JOIN_ATTEMPTS: u32 = 5;

/// Syncs until `shutdown` fires. `allowed_servers` empty means the bot's own server only.
pub async fn run(
    app: App,
    client: Client,
    allowed_servers: Vec<String>,
    timeout: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let bot = client
        .user_id()
        .map(ToOwned::to_owned)
        .ok_or_else(|| anyhow::anyhow!("not logged in"))?;
    let allowed: Vec<String> = if allowed_servers.is_empty() {
        vec![bot.server_name().to_string()]
    } else {
        allowed_servers
    };
    let joining: Arc<Mutex<HashSet<OwnedRoomId>>> = Arc::default();
    let mut first = super::committed_sync_token(&app.store).await?.is_none();
    // Set after the homeserver refused the saved token: events from this time on are handled
    // from the fresh sync's timelines (those already handled are skipped as seen).
    let mut catch_up_from: Option<i64> = None;
    let mut failures: u32 = 0;
    loop {
        let mut settings = SyncSettings::default().timeout(timeout).filter(long_timeline());
        if first || catch_up_from.is_some() {
            // Without a committed token (or after one was refused) sync without any: the SDK
            // may hold one of its own in its store or memory.
            settings = settings.token(SyncToken::NoToken);
        }
        let response = tokio::select! {
            r = client.sync_once(settings) => r,
            _ = shutdown.changed() => return Ok(()),
        };
        let response = match response {
            Ok(r) => {
                failures = 0;
                r
            }
            Err(e) if !first && catch_up_from.is_none() && token_refused(&e) => {
                let from = match last_synced_at(&app).await {
                    Ok(from) => from,
                    Err(e) => {
                        // Nothing to resume from: back to the safe default of a day back.
                        tracing::warn!(error = %format!("{e:#}"), "could not read when the last sync was");
                        app.now() - 24 * 60 * 60 * 1000
                    }
                };
                tracing::warn!(
                    error = %e,
                    "the homeserver refused the saved sync token; syncing afresh and handling what \
                     each room received since the last sync"
                );
                catch_up_from = Some(from);
                continue;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "Matrix sync failed");
                let wait = Duration::from_millis(500 * 2u64.pow(failures.min(6)));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = shutdown.changed() => return Ok(()),
                }
            }
        };
        for (room_id, invite) in &response.rooms.invited {
            let inviter = invite
                .invite_state
                .events
                .iter()
                .find_map(|raw| match raw.deserialize() {
                    Ok(AnyStrippedStateEvent::RoomMember(m))
                        if m.state_key == bot && m.content.membership == MembershipState::Invite =>
                    {
                        Some((m.sender.clone(), m.content.is_direct.unwrap_or(false)))
                    }
                    _ => None,
                });
            let Some((inviter, is_direct)) = inviter else { continue };
            if !joining.lock().map(|mut j| j.insert(room_id.clone())).unwrap_or(false) {
                continue;
            }
            tokio::spawn(answer_invite(
                app.clone(),
                client.clone(),
                room_id.clone(),
                inviter,
                is_direct,
                allowed.clone(),
                joining.clone(),
            ));
        }
        if !first {
            for (room_id, update) in &response.rooms.joined {
                let is_direct = match client.get_room(room_id) {
                    Some(room) => room.is_direct().await.unwrap_or(false),
                    None => false,
                };
                // More happened than one sync carries: older events were left out. Synapse also
                // marks the first timeline of a room the bot has just joined as limited, however
                // few events it holds: what came before the join was never the bot's to read.
                if update.timeline.limited && !joined_in(&update.timeline.events, &bot) {
                    tracing::warn!(room = %room_id, "a sync left events out (more than {TIMELINE_LIMIT} at once)");
                }
                for event in &update.timeline.events {
                    if catch_up_from.is_some_and(|from| sent_at(event) < from) {
                        continue;
                    }
                    if event.kind.is_utd() {
                        tracing::warn!(room = %room_id, "an event could not be decrypted; skipped");
                        continue;
                    }
                    let Ok(event) = event.raw().deserialize() else { continue };
                    let Some((inbound, choice)) = convert(&event, room_id.as_str(), is_direct, &bot) else {
                        continue;
                    };
                    handle_with_retries(&app, inbound, choice).await;
                }
            }
        }
        first = false;
        catch_up_from = None;
        let mut tx = app.store.begin().await?;
        platform_state::set(&mut tx, SYNC_TOKEN_KEY, &response.next_batch).await?;
        platform_state::set(&mut tx, SYNCED_AT_KEY, &app.now().to_string()).await?;
        tx.commit().await?;
    }
}

/// When the last sync was committed (ms); kept beside the token.
const SYNCED_AT_KEY: &str = "matrix.synced_at";

/// How far before the last committed sync a catch-up reaches back: events the homeserver put
/// into a room just before that sync but showed only after it (clock skew, slow federation).
const CATCH_UP_MARGIN_MS: i64 = 5 * 60 * 1000;

/// The homeserver refused the request itself, not for a while: with a saved token that means
/// the token (expired, from a server whose database was restored, or malformed). Rate limits and
/// a lost login are not that.
fn token_refused(e: &matrix_sdk::Error) -> bool {
    e.as_client_api_error().is_some_and(|api| {
        let status = api.status_code.as_u16();
        matches!(status, 400 | 404 | 410)
    })
}

/// Where a catch-up after a refused token starts: a little before the last committed sync, or
/// a day back when that time is unknown (a database from before it was kept).
async fn last_synced_at(app: &App) -> Result<i64> {
    let mut tx = app.store.begin().await?;
    let saved = platform_state::get(&mut tx, SYNCED_AT_KEY).await?;
    tx.commit().await?;
    Ok(match saved.and_then(|s| s.parse::<i64>().ok()) {
        Some(at) => at - CATCH_UP_MARGIN_MS,
        None => app.now() - 24 * 60 * 60 * 1000,
    })
}

/// When the homeserver received `event` (ms), 0 when it does not say.
fn sent_at(event: &matrix_sdk::deserialized_responses::TimelineEvent) -> i64 {
    event
        .raw()
        .get_field::<i64>("origin_server_ts")
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// Whether `events` hold the bot's own join: the room is new to it in this sync.
fn joined_in(events: &[matrix_sdk::deserialized_responses::TimelineEvent], bot: &UserId) -> bool {
    use matrix_sdk::ruma::events::{AnySyncStateEvent, AnySyncTimelineEvent};
    events.iter().any(|event| {
        matches!(
            event.raw().deserialize(),
            Ok(AnySyncTimelineEvent::State(AnySyncStateEvent::RoomMember(m)))
                if m.state_key() == bot && *m.membership() == MembershipState::Join
        )
    })
}

/// Events per room one sync may carry; Synapse's default is 10, which a burst of messages (or
/// the time the bot was down) easily exceeds.
pub const TIMELINE_LIMIT: u32 = 500;

/// A sync filter that lets a room's timeline carry [`TIMELINE_LIMIT`] events.
pub fn long_timeline() -> matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter {
    let mut filter = matrix_sdk::ruma::api::client::filter::FilterDefinition::default();
    filter.room.timeline.limit = Some(TIMELINE_LIMIT.into());
    matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter::FilterDefinition(filter)
}

/// One event, retried a few times on internal errors (a busy database), then skipped.
async fn handle_with_retries(app: &App, mut inbound: Inbound, choice: Option<super::convert::Choice>) {
    for attempt in 1..=MAX_TRIES_PER_EVENT {
        let result = async {
            // Only a message that may choose an option needs the store before it is handled.
            if choice.is_some() {
                let mut tx = app.store.begin().await?;
                let keep = resolve_choice(&mut tx, &mut inbound, choice.clone()).await?;
                tx.commit().await?;
                if !keep {
                    return Ok(());
                }
            }
            app.handle(&inbound).await.map(|_| ())
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) if attempt < MAX_TRIES_PER_EVENT => {
                tracing::warn!(error = %format!("{e:#}"), attempt, "handling a Matrix event failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "a Matrix event was skipped after repeated failures"),
        }
    }
}

/// Joins a room the bot was invited to from an allowed server (retrying with backoff), or
/// rejects the invite. A group (not a direct room) then hears how to link it.
async fn answer_invite(
    app: App,
    client: Client,
    room_id: OwnedRoomId,
    inviter: matrix_sdk::ruma::OwnedUserId,
    is_direct: bool,
    allowed: Vec<String>,
    joining: Arc<Mutex<HashSet<OwnedRoomId>>>,
) {
    let done = |joining: &Arc<Mutex<HashSet<OwnedRoomId>>>| {
        if let Ok(mut j) = joining.lock() {
            j.remove(&room_id);
        }
    };
    if !server_allowed(&inviter, &allowed) {
        tracing::info!(server = %inviter.server_name(), "invite from a server not in matrix.allowed_servers rejected");
        if let Some(room) = client.get_room(&room_id) {
            let _ = room.leave().await;
        }
        done(&joining);
        return;
    }
    let mut joined = false;
    for attempt in 0..JOIN_ATTEMPTS {
        match client.join_room_by_id(&room_id).await {
            Ok(_) => {
                joined = true;
                break;
            }
            // The join can succeed and marking the room direct fail: count it as joined.
            Err(e)
                if client
                    .get_room(&room_id)
                    .is_some_and(|r| r.state() == matrix_sdk::RoomState::Joined) =>
            {
                tracing::debug!(error = %e, "joined, with a follow-up error");
                joined = true;
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "joining an invited room failed");
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
            }
        }
    }
    if joined && !is_direct {
        let event = Inbound {
            platform: Platform::Matrix,
            event_id: format!("joined:{room_id}"),
            chat_id: room_id.to_string(),
            is_direct: false,
            sender: inviter.to_string(),
            content: Content::Joined,
            addressed: true,
            sender_private_chat: Some(inviter.to_string()),
        };
        if let Err(e) = app.handle(&event).await {
            tracing::warn!(error = %format!("{e:#}"), "could not greet a joined room");
        }
    }
    done(&joining);
}

fn server_allowed(user: &UserId, allowed: &[String]) -> bool {
    allowed.iter().any(|s| s == user.server_name().as_str())
}
