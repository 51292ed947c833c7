//! The outbox: every bot message is a row written in the same transaction as its cause,
//! unique on its idempotency key; delivery workers claim due rows with a lease, and mark them
//! delivered, due again later, or dead: [`Status`].

use anyhow::{Context, Result};

use super::replicas::Partition;
use super::sql::Query;
use super::{Backend, Conn, Row, Store, col, query};
use crate::domain::{Button, Platform};

crate::domain::text_enum! {
    /// Where an outbox row is. Queries filter on these texts; the CHECK constraint
    /// `outbox_status_check` holds the same list.
    pub enum Status {
        /// Waiting to be delivered (maybe after a retry's wait).
        Pending = "pending",
        Delivered = "delivered",
        /// Refused for good (a permanent error, or too many retries).
        Dead = "dead",
        /// Refused because the chat is closed to the bot (blocked, kicked, never opened): due
        /// again if the person opens the private chat within a day.
        Gone = "gone",
        /// A copy of a cancelled alert that had not gone out.
        Withdrawn = "withdrawn",
    }
}

/// Why a row failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The platform refused it for good, or it was retried too often.
    Dead,
    /// The chat is closed to the bot.
    Gone,
}

/// A message to write to the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub target: Target<'a>,
    pub text: &'a str,
    pub buttons: &'a [Vec<Button>],
    /// An earlier outbox row whose delivered message this one replaces.
    pub edit_of: Option<i64>,
    pub priority: i64,
    /// Unique per (message, target): a retried cause never enqueues twice.
    pub idem_key: &'a str,
    pub alert_id: Option<i64>,
    /// The group to tell, without personal data, if a person's private chat refuses delivery.
    pub fallback_chat: Option<&'a str>,
    /// A photo (platform file id) sent with the text as its caption.
    pub photo: Option<&'a str>,
    /// The platform id of the message this one answers.
    pub reply_to: Option<&'a str>,
}

/// Where a new message goes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Chat(Platform, &'a str),
    /// A person, in the private chat of the identity they used last (resolved in the same
    /// statement that inserts the row).
    Person(i64),
}

/// A claimed outbox row, ready for a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub platform: Platform,
    pub chat_id: String,
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    pub edit_of: Option<i64>,
    pub priority: i64,
    pub idem_key: String,
    pub alert_id: Option<i64>,
    pub fallback_chat: Option<String>,
    pub photo: Option<String>,
    pub reply_to: Option<String>,
    /// Attempts including the current one.
    pub attempts: i64,
    /// When it was queued (epoch ms).
    pub created_at: i64,
}

/// Enqueues a message; `None` if a row with the same idempotency key exists already, or if a
/// person has no private chat to reach them in.
pub async fn enqueue(conn: &mut Conn, m: &NewMessage<'_>, now: i64) -> Result<Option<i64>> {
    conn.queued_messages();
    let sql = insert_sql(std::slice::from_ref(m), " RETURNING id");
    let row = bind_all(query(sql), std::slice::from_ref(m), now)?
        .fetch_optional(conn)
        .await
        .context("enqueueing outbox message")?;
    row.map(|r| col(&r, "id")).transpose()
}

/// Rows per INSERT statement: well under SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT: usize = 200;

/// Enqueues messages with one statement per 200 (and no rows sent back, which with SQLite
/// would cost a thread hand-off each); returns how many rows were inserted. A taken key or an
/// unreachable person inserts nothing: see [`missing_keys`].
pub async fn enqueue_many(conn: &mut Conn, messages: &[NewMessage<'_>], now: i64) -> Result<u64> {
    conn.queued_messages();
    let mut inserted = 0;
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let sql = insert_sql(chunk, "");
        let done = bind_all(query(sql), chunk, now)?
            .execute(&mut *conn)
            .await
            .context("enqueueing outbox messages")?;
        inserted += done.rows_affected();
    }
    Ok(inserted)
}

/// One INSERT whose rows are the SELECTs of a UNION ALL; a person's row selects the private
/// chat of the identity they used last.
fn insert_sql(messages: &[NewMessage<'_>], returning: &str) -> String {
    let mut sql = String::from(
        "INSERT INTO outbox (text, buttons, edit_of, priority, idem_key, alert_id, fallback_chat, photo, reply_to, next_attempt_at, created_at, platform, chat_id) ",
    );
    let mut n = 1;
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            sql.push_str(" UNION ALL ");
        }
        // text, buttons, edit_of, priority, idem_key, alert_id, fallback_chat, photo, reply_to,
        // now (twice).
        let common = (n..n + 10)
            .map(|k| format!("${k}"))
            .chain([format!("${}", n + 9)])
            .collect::<Vec<_>>()
            .join(", ");
        n += 10;
        match m.target {
            Target::Chat(..) => {
                sql.push_str(&format!("SELECT {common}, ${}, ${} WHERE 1 = 1", n, n + 1));
                n += 2;
            }
            Target::Person(_) => {
                sql.push_str(&format!(
                    "SELECT {common}, t.platform, t.dm_chat FROM (SELECT platform, dm_chat FROM identities \
                     WHERE person_id = ${n} AND dm_chat IS NOT NULL ORDER BY last_seen_at DESC, platform LIMIT 1) t WHERE 1 = 1"
                ));
                n += 1;
            }
        }
    }
    sql.push_str(" ON CONFLICT (idem_key) DO NOTHING");
    sql.push_str(returning);
    sql
}

fn bind_all(mut query: Query, messages: &[NewMessage<'_>], now: i64) -> Result<Query> {
    for m in messages {
        let buttons = if m.buttons.is_empty() {
            None
        } else {
            Some(serde_json::to_string(m.buttons)?)
        };
        query = query
            .bind(m.text.to_owned())
            .bind(buttons)
            .bind(m.edit_of)
            .bind(m.priority)
            .bind(m.idem_key.to_owned())
            .bind(m.alert_id)
            .bind(m.fallback_chat.map(str::to_owned))
            .bind(m.photo.map(str::to_owned))
            .bind(m.reply_to.map(str::to_owned))
            .bind(now);
        query = match m.target {
            Target::Chat(platform, chat_id) => query.bind(platform.as_str()).bind(chat_id.to_owned()),
            Target::Person(person) => query.bind(person),
        };
    }
    Ok(query)
}

/// The keys among `keys` that no outbox row has.
pub async fn missing_keys(conn: &mut Conn, keys: &[&str]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for key in keys {
        let row = query("SELECT 1 AS one FROM outbox WHERE idem_key = $1")
            .bind(*key)
            .fetch_optional(&mut *conn)
            .await
            .context("looking up an outbox key")?;
        if row.is_none() {
            missing.push((*key).to_owned());
        }
    }
    Ok(missing)
}

const RETURNING: &str = "RETURNING id, platform, chat_id, text, buttons, edit_of, priority, idem_key, alert_id, fallback_chat, photo, reply_to, attempts, created_at";

/// Claims up to `limit` due messages of a platform for `lease_ms`, highest priority first.
pub async fn claim(store: &Store, platform: Platform, now: i64, limit: i64, lease_ms: i64) -> Result<Vec<Message>> {
    // Said outright: SQLite without statistics could pick a worse index and sort every due row.
    let (index, lock) = match store.backend() {
        Backend::Postgres => ("", "FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => ("INDEXED BY outbox_claim", ""),
    };
    // With replicas, only the chats of this one's partition (see `store::replicas`).
    let share = store.partition().sql();
    let sql = format!(
        "UPDATE outbox SET lease_until = $3, attempts = attempts + 1, leased_by = $5 WHERE id IN (\
         SELECT id FROM outbox {index} WHERE platform = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2{share} \
         ORDER BY priority DESC, id LIMIT $4 {lock}) {RETURNING}"
    );
    let mut tx = store.begin().await?;
    let rows = query(sql)
        .bind(platform.as_str())
        .bind(now)
        .bind(now + lease_ms)
        .bind(limit)
        .bind(crate::metrics::replica_name())
        .fetch_all(&mut tx)
        .await
        .context("claiming outbox messages")?;
    tx.commit().await.context("committing outbox claim")?;
    let mut messages = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    messages.sort_by_key(|m| (-m.priority, m.id));
    Ok(messages)
}

fn from_row(r: &Row) -> Result<Message> {
    let platform: String = col(r, "platform")?;
    let buttons: Option<String> = col(r, "buttons")?;
    Ok(Message {
        id: col(r, "id")?,
        platform: Platform::parse(&platform).with_context(|| format!("unknown platform {platform}"))?,
        chat_id: col(r, "chat_id")?,
        text: col(r, "text")?,
        buttons: decode_buttons(buttons)?,
        edit_of: col(r, "edit_of")?,
        priority: col(r, "priority")?,
        idem_key: col(r, "idem_key")?,
        alert_id: col(r, "alert_id")?,
        fallback_chat: col(r, "fallback_chat")?,
        photo: col(r, "photo")?,
        reply_to: col(r, "reply_to")?,
        attempts: col(r, "attempts")?,
        created_at: col(r, "created_at")?,
    })
}

/// Marks a sent message delivered; returns its text as the row holds it now, which differs
/// from what was sent when an alert was corrected or cancelled while the copy was in flight
/// ([`revise_alert`] had nothing delivered to list yet).
pub async fn mark_delivered(
    conn: &mut Conn,
    id: i64,
    platform_message_id: Option<&str>,
    now: i64,
) -> Result<Option<String>> {
    let row = query(
        "UPDATE outbox SET status = 'delivered', delivered_at = $3, platform_message_id = $2, last_error = NULL WHERE id = $1 RETURNING text",
    )
    .bind(id)
    .bind(platform_message_id)
    .bind(now)
    .fetch_optional(conn)
    .await
    .context("marking message delivered")?;
    row.map(|r| col(&r, "text")).transpose()
}

pub async fn mark_retry(conn: &mut Conn, id: i64, error: &str, next_attempt_at: i64) -> Result<()> {
    query("UPDATE outbox SET next_attempt_at = $3, lease_until = 0, last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .bind(next_attempt_at)
        .execute(conn)
        .await
        .context("scheduling message retry")?;
    Ok(())
}

/// Puts a claimed message back until `until` without counting the attempt (the platform's
/// rate budget for its chat was spent).
pub async fn defer(conn: &mut Conn, id: i64, until: i64) -> Result<()> {
    query("UPDATE outbox SET attempts = attempts - 1, next_attempt_at = $2, lease_until = 0 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(conn)
        .await
        .context("deferring message")?;
    Ok(())
}

/// Withdraws edit `id` when a later edit of the same message waits too: only the newest text
/// is worth a request (Telegram counts edits against the chat's budget). Whether it was.
pub async fn withdraw_superseded_edit(conn: &mut Conn, id: i64, edit_of: i64) -> Result<bool> {
    let done = query(
        "UPDATE outbox SET status = 'withdrawn', last_error = 'superseded by a later edit' WHERE id = $1 \
         AND EXISTS (SELECT 1 FROM outbox later WHERE later.edit_of = $2 AND later.id > $1 AND later.status = 'pending')",
    )
    .bind(id)
    .bind(edit_of)
    .execute(conn)
    .await
    .context("withdrawing a superseded edit")?;
    Ok(done.rows_affected() == 1)
}

/// Dead-letters a row, with the reason in `last_error`.
pub async fn mark_dead(conn: &mut Conn, id: i64, failure: Failure, error: &str) -> Result<()> {
    let status = match failure {
        Failure::Dead => Status::Dead,
        Failure::Gone => Status::Gone,
    };
    query("UPDATE outbox SET status = $3, last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .bind(status.as_str())
        .execute(conn)
        .await
        .context("dead-lettering message")?;
    Ok(())
}

/// The platform's id of a delivered message (for edits); `None` while undelivered.
pub async fn platform_message_id(conn: &mut Conn, id: i64) -> Result<Option<String>> {
    let row = query("SELECT platform_message_id FROM outbox WHERE id = $1 AND status = 'delivered'")
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading platform message id")?;
    Ok(row
        .map(|r| col::<Option<String>>(&r, "platform_message_id"))
        .transpose()?
        .flatten())
}

/// The outbox row whose delivered message is `platform_message_id` in that chat (the
/// original, not an edit of it).
pub async fn by_platform_message(
    conn: &mut Conn,
    platform: Platform,
    chat_id: &str,
    platform_message_id: &str,
) -> Result<Option<i64>> {
    let row = query(
        "SELECT id FROM outbox WHERE platform = $1 AND chat_id = $2 AND platform_message_id = $3 AND edit_of IS NULL \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .bind(platform_message_id)
    .fetch_optional(conn)
    .await
    .context("finding a pressed message")?;
    row.map(|r| col(&r, "id")).transpose()
}

/// A chat got a new id (a Telegram group became a supergroup): its waiting messages follow.
pub async fn move_chat(conn: &mut Conn, platform: Platform, old: &str, new: &str, now: i64) -> Result<u64> {
    conn.queued_messages();
    let done = query(
        "UPDATE outbox SET chat_id = $3, next_attempt_at = $4, lease_until = 0 \
         WHERE platform = $1 AND chat_id = $2 AND status = 'pending'",
    )
    .bind(platform.as_str())
    .bind(old)
    .bind(new)
    .bind(now)
    .execute(conn)
    .await
    .context("moving waiting messages to a new chat id")?;
    Ok(done.rows_affected())
}

/// Messages dead-lettered because a private chat refused them ([`Status::Gone`]) in the last day are
/// due again: the person has now opened that chat.
pub async fn revive_for_chat(conn: &mut Conn, platform: Platform, chat_id: &str, now: i64) -> Result<u64> {
    conn.queued_messages();
    let done = query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $3, lease_until = 0 \
         WHERE platform = $1 AND chat_id = $2 AND status = 'gone' AND created_at > $4",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .bind(now)
    .bind(now - 86_400_000)
    .execute(conn)
    .await
    .context("reviving messages for a private chat")?;
    Ok(done.rows_affected())
}

/// Delivery figures of an alert: (delivered, dead, pending).
pub async fn alert_progress(conn: &mut Conn, alert_id: i64) -> Result<(i64, i64, i64)> {
    let row = query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered, \
         CAST(COALESCE(SUM(CASE WHEN status IN ('dead', 'gone') THEN 1 ELSE 0 END), 0) AS BIGINT) AS dead, \
         CAST(COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending \
         FROM outbox WHERE alert_id = $1",
    )
    .bind(alert_id)
    .fetch_one(conn)
    .await
    .context("counting alert deliveries")?;
    Ok((col(&row, "delivered")?, col(&row, "dead")?, col(&row, "pending")?))
}

/// The outbox as the metrics show it.
#[derive(Debug, Default)]
pub struct QueueFigures {
    /// (platform, priority, messages waiting).
    pub pending: Vec<(String, i64, i64)>,
    /// (platform, messages that can never be delivered).
    pub dead: Vec<(String, i64)>,
}

/// Waiting messages by platform and priority, and dead letters by platform.
pub async fn queue_figures(conn: &mut Conn) -> Result<QueueFigures> {
    let pending = query(
        "SELECT platform, priority, COUNT(*) AS n FROM outbox WHERE status = 'pending' GROUP BY platform, priority",
    )
    .fetch_all(&mut *conn)
    .await
    .context("counting waiting messages")?
    .iter()
    .map(|r| Ok((col(r, "platform")?, col(r, "priority")?, col(r, "n")?)))
    .collect::<Result<Vec<_>>>()?;
    let dead = query("SELECT platform, COUNT(*) AS n FROM outbox WHERE status IN ('dead', 'gone') GROUP BY platform")
        .fetch_all(conn)
        .await
        .context("counting dead letters")?
        .iter()
        .map(|r| Ok((col(r, "platform")?, col(r, "n")?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(QueueFigures { pending, dead })
}

/// How many messages of a platform wait for delivery.
pub async fn pending_count(conn: &mut Conn, platform: Platform) -> Result<i64> {
    let row = query("SELECT COUNT(*) AS n FROM outbox WHERE platform = $1 AND status = 'pending'")
        .bind(platform.as_str())
        .fetch_one(conn)
        .await
        .context("counting pending messages")?;
    col(&row, "n")
}

/// The earliest time a pending message of a platform, in chats of `share`, becomes due, if any.
pub async fn next_due(conn: &mut Conn, platform: Platform, share: Partition) -> Result<Option<i64>> {
    // A row leased by a worker that died is due when its lease runs out.
    let row = query(format!(
        "SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END) AS due \
         FROM outbox WHERE platform = $1 AND status = 'pending'{}",
        share.sql()
    ))
    .bind(platform.as_str())
    .fetch_one(conn)
    .await
    .context("finding next due message")?;
    col(&row, "due")
}

/// Buttons of a delivered message, for platforms that offer them as numbered options: the
/// row id and its buttons.
pub type Offered = (i64, Vec<Vec<Button>>);

fn offered_from_row(r: &Row) -> Result<Offered> {
    Ok((col(r, "id")?, decode_buttons(col(r, "buttons")?)?))
}

/// The `buttons` column: JSON rows of buttons, or NULL for none.
fn decode_buttons(stored: Option<String>) -> Result<Vec<Vec<Button>>> {
    match stored {
        Some(b) => serde_json::from_str(&b).context("decoding buttons"),
        None => Ok(Vec::new()),
    }
}

/// The newest message (not an edit) delivered to the chat: a number typed next answers it.
pub async fn last_delivered(conn: &mut Conn, platform: Platform, chat_id: &str) -> Result<Option<Offered>> {
    let row = query(
        "SELECT id, buttons FROM outbox WHERE platform = $1 AND chat_id = $2 AND status = 'delivered' \
         AND edit_of IS NULL ORDER BY delivered_at DESC, id DESC LIMIT 1",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .fetch_optional(conn)
    .await
    .context("loading the last delivered message")?;
    row.as_ref().map(offered_from_row).transpose()
}

/// The message the platform knows as `platform_message_id` in the chat (a reaction's target).
pub async fn offered_by_platform_message(
    conn: &mut Conn,
    platform: Platform,
    chat_id: &str,
    platform_message_id: &str,
) -> Result<Option<Offered>> {
    let row = query(
        "SELECT id, buttons FROM outbox WHERE platform = $1 AND chat_id = $2 AND platform_message_id = $3 \
         AND edit_of IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .bind(platform_message_id)
    .fetch_optional(conn)
    .await
    .context("loading a message by its platform id")?;
    row.as_ref().map(offered_from_row).transpose()
}

/// Where the platform's private chat for `external_id` now is (a Matrix direct room opened by
/// the delivery worker): the identity remembers it and waiting messages move there.
pub async fn open_private_chat(
    conn: &mut Conn,
    platform: Platform,
    external_id: &str,
    chat: &str,
    now: i64,
) -> Result<()> {
    query("UPDATE identities SET dm_chat = $3 WHERE platform = $1 AND external_id = $2")
        .bind(platform.as_str())
        .bind(external_id)
        .bind(chat)
        .execute(&mut *conn)
        .await
        .context("remembering a new private chat")?;
    move_chat(conn, platform, external_id, chat, now).await?;
    Ok(())
}

/// A delivered copy of an alert: its row and chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCopy {
    pub id: i64,
    pub platform: Platform,
    pub chat_id: String,
}

/// Withdraws the copies of an alert still waiting (with `reason` as their last error);
/// returns how many.
pub async fn withdraw_alert_copies(conn: &mut Conn, alert_id: i64, reason: &str) -> Result<u64> {
    let done =
        query("UPDATE outbox SET status = 'withdrawn', last_error = $2 WHERE alert_id = $1 AND status = 'pending'")
            .bind(alert_id)
            .bind(reason)
            .execute(conn)
            .await
            .context("withdrawing waiting alert copies")?;
    Ok(done.rows_affected())
}

/// The copies of an alert not yet delivered get `text` (they go out corrected), or, with
/// `withdraw`, are withdrawn holding `text` (a copy in flight meanwhile is edited to it once
/// sent: see [`mark_delivered`]); returns the delivered copies, to be edited.
pub async fn revise_alert(conn: &mut Conn, alert_id: i64, text: &str, withdraw: bool) -> Result<Vec<AlertCopy>> {
    let sql = if withdraw {
        "UPDATE outbox SET text = $2, status = 'withdrawn', last_error = 'alert cancelled' WHERE alert_id = $1 AND status = 'pending'"
    } else {
        "UPDATE outbox SET text = $2 WHERE alert_id = $1 AND status = 'pending'"
    };
    query(sql)
        .bind(alert_id)
        .bind(text)
        .execute(&mut *conn)
        .await
        .context("revising waiting alert copies")?;
    let rows = query(
        "SELECT id, platform, chat_id FROM outbox WHERE alert_id = $1 AND status = 'delivered' AND edit_of IS NULL ORDER BY id",
    )
    .bind(alert_id)
    .fetch_all(conn)
    .await
    .context("listing delivered alert copies")?;
    rows.iter()
        .map(|r| {
            let platform: String = col(r, "platform")?;
            Ok(AlertCopy {
                id: col(r, "id")?,
                platform: Platform::parse(&platform).with_context(|| format!("unknown platform {platform}"))?,
                chat_id: col(r, "chat_id")?,
            })
        })
        .collect()
}
