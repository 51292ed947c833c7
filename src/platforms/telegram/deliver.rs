//! Delivering an outbox row to Telegram: HTML with everything escaped, split at 4,096
//! characters (buttons under the last part), edits in place, and Telegram's errors mapped onto
//! the delivery worker's retry decisions.

use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode};

use super::format::{CAPTION_LIMIT, MESSAGE_LIMIT, escape_html, split_for_html, truncate_for_html};
use crate::domain::Button;
use crate::store::outbox::Message;
use crate::store::{Backend, Store, replicas};
use crate::workers::delivery::{Deliverer, DeliveryError};

/// Telegram's documented sending limits, as the spacing between two sends.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One message a second to a private chat.
    pub private_chat: Duration,
    /// Twenty a minute to a group: one every three seconds.
    pub group: Duration,
    /// Thirty a second overall.
    pub global: Duration,
    /// With paid broadcasting, up to 1,000 a second for urgent alerts.
    pub paid: Duration,
}

/// How much later than its slot a request may reach Telegram, summed over a window of the
/// overall limit: each send is spaced by its share of it. Absolute, not scaled with the limits
/// (the jitter of a request is the same whatever the budget): at Telegram's speed it costs 1 %
/// of the 30/s, ten times faster (tests) 10 %.
const JITTER_PER_WINDOW: Duration = Duration::from_millis(10);

impl Limits {
    pub fn telegram() -> Limits {
        Limits::scaled(1.0)
    }

    /// Every limit `factor` times faster (for tests and benchmarks against the fake server).
    pub fn scaled(factor: f64) -> Limits {
        let second = Duration::from_secs(1).div_f64(factor);
        Limits {
            private_chat: second,
            group: second * 3,
            global: second / 30 + JITTER_PER_WINDOW / 30,
            paid: second / 1000 + JITTER_PER_WINDOW / 1000,
        }
    }
}

/// The next free slot of an overall budget. Each request reserves the slot after the last
/// one reserved and sleeps until it: a late wake-up does not push later requests back (as
/// checking a rate limiter after each sleep would, a millisecond of timer slack per send).
#[derive(Default)]
struct Slots(std::sync::Mutex<Option<std::time::Instant>>);

impl Slots {
    fn reserve(&self, interval: Duration) -> std::time::Instant {
        let now = std::time::Instant::now();
        let mut next = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + interval);
        slot
    }
}

type Keyed =
    governor::RateLimiter<i64, governor::state::keyed::DefaultKeyedStateStore<i64>, governor::clock::DefaultClock>;

/// Sends outbox rows to Telegram within its limits: per chat it says when to come back
/// ([`Deliverer::admit`]); the global budget it waits for before each request. The chat
/// budgets are `governor` rate limiters with a burst of one; the overall ones are [`Slots`], so
/// sends are evenly spaced. Edits count as sends (Telegram counts them).
///
/// Waiting costs no CPU: each request sleeps once on a tokio timer until its global slot, and
/// a message refused by its chat's budget is put back until a slot reserved for it, so a chat
/// with a hundred waiting messages has each one claimed about twice, not once per freed slot.
pub struct TelegramDeliverer {
    bot: Bot,
    /// The bot's username, for `https://t.me/<username>?start=…` links.
    username: Option<String>,
    limits: Limits,
    private_chats: Keyed,
    groups: Keyed,
    global: Slots,
    /// Paid broadcasting (`telegram.paid_broadcast`): urgent alert copies use `paid` instead
    /// of `global` and are sent with `allow_paid_broadcast`.
    paid_broadcast: bool,
    paid: Slots,
    /// The limiters' clock (creating one calibrates it: not per request).
    clock: DefaultClock,
    /// Per chat, when the last request to it went (or is about to go): see [`Self::ready`].
    last_request: std::sync::Mutex<std::collections::HashMap<i64, std::time::Instant>>,
    /// Per chat, the next free slot already promised to a put-back message.
    reserved: std::sync::Mutex<std::collections::HashMap<i64, std::time::Instant>>,
    /// With replicas on PostgreSQL: the overall budgets are kept in the database, per bot
    /// token (`telegram:<bot id>:global|paid`), so the replicas together keep to them. Chat
    /// budgets stay here: a chat is delivered to by one replica at a time.
    shared: Option<SharedBudget>,
}

/// The overall budgets' rows in the database: the store and the keys of the free and the
/// paid budget of this bot token.
struct SharedBudget {
    store: Store,
    global: String,
    paid: String,
}

impl TelegramDeliverer {
    /// Links to the bot's private chat use this username (from `getMe`).
    pub fn with_username(mut self, username: impl Into<String>) -> TelegramDeliverer {
        self.username = Some(username.into());
        self
    }

    pub fn with_limits(bot: Bot, limits: Limits) -> TelegramDeliverer {
        let quota =
            |d: Duration| governor::Quota::with_period(d.max(Duration::from_micros(1))).expect("a positive period");
        TelegramDeliverer {
            bot,
            username: None,
            limits,
            private_chats: governor::RateLimiter::keyed(quota(limits.private_chat)),
            groups: governor::RateLimiter::keyed(quota(limits.group)),
            global: Slots::default(),
            paid_broadcast: false,
            paid: Slots::default(),
            clock: DefaultClock::default(),
            reserved: std::sync::Mutex::new(std::collections::HashMap::new()),
            last_request: std::sync::Mutex::new(std::collections::HashMap::new()),
            shared: None,
        }
    }

    /// Keeps the overall budgets of bot `token` in `store` when it is PostgreSQL (shared with
    /// every replica); on SQLite there is one process and they stay in it.
    pub fn with_shared_budget(mut self, store: &Store, token: &str) -> TelegramDeliverer {
        if store.backend() == Backend::Postgres {
            // The bot's id, not its secret.
            let bot_id = token.split(':').next().unwrap_or_default();
            self.shared = Some(SharedBudget {
                store: store.clone(),
                global: format!("telegram:{bot_id}:global"),
                paid: format!("telegram:{bot_id}:paid"),
            });
        }
        self
    }

    /// Sends urgent alerts with `allow_paid_broadcast` (Telegram charges Stars for them).
    pub fn with_paid_broadcast(mut self, on: bool) -> TelegramDeliverer {
        self.paid_broadcast = on;
        self
    }

    /// Whether this message is an urgent alert's copy that may use paid broadcasting.
    fn paid(&self, message: &Message) -> bool {
        self.paid_broadcast
            && message.alert_id.is_some()
            && message.edit_of.is_none()
            && message.priority >= crate::domain::AlertLevel::Urgent.priority()
    }

    /// Waits for the global budget (the paid one for `paid` sends), then notes when this
    /// request to `chat` left, which [`Deliverer::admit`] spaces the chat's next one from.
    async fn ready(&self, chat: i64, paid: bool) {
        self.global_ready(paid).await;
        self.note_request(chat);
    }

    /// Records that a request to `chat` leaves (or was admitted) now; entries older than the
    /// longest chat period are dropped once there are many.
    fn note_request(&self, chat: i64) {
        let now = std::time::Instant::now();
        let mut last = self.last_request.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() > 10_000 {
            let longest = self.limits.group.max(self.limits.private_chat);
            last.retain(|_, at| *at + longest > now);
            // The chats' rate limiters keep a state per chat ever sent to: a day's 100,000
            // residents would stay in memory.
            for limiter in [&self.private_chats, &self.groups] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        let at = last.entry(chat).or_insert(now);
        *at = (*at).max(now);
    }

    /// How long until a request to `chat` is a period (and a twentieth, for the jitter of
    /// requests on their way) after the last one that left or was admitted: zero if it is.
    /// The wait for the global budget varies, so a message admitted by the chat's rate limiter
    /// can still leave soon after one admitted before it but held up behind a fan-out.
    fn spacing(&self, chat: i64, period: Duration) -> Duration {
        let now = std::time::Instant::now();
        let last = self.last_request.lock().unwrap_or_else(|e| e.into_inner());
        last.get(&chat).map_or(Duration::ZERO, |t| {
            (*t + period + period / 20).saturating_duration_since(now)
        })
    }

    /// Waits for the global budget (the paid one for `paid` sends): until this request's
    /// slot, on a tokio timer.
    async fn global_ready(&self, paid: bool) {
        let (slots, interval) = if paid {
            (&self.paid, self.limits.paid)
        } else {
            (&self.global, self.limits.global)
        };
        if let Some(shared) = &self.shared {
            let key = if paid { &shared.paid } else { &shared.global };
            match replicas::reserve_send(&shared.store, key, interval).await {
                Ok(wait) => {
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    return;
                }
                // Without the database, this process keeps to the whole budget on its own.
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "the shared sending budget is unavailable"),
            }
        }
        tokio::time::sleep_until(slots.reserve(interval).into()).await;
    }
}

fn keyboard(buttons: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(buttons.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
            .collect::<Vec<_>>()
    }))
}

/// Telegram's answer, as the worker's decision.
pub fn classify(error: RequestError) -> DeliveryError {
    use teloxide::ApiError;
    match error {
        RequestError::RetryAfter(seconds) => DeliveryError::Retry {
            after_ms: Some(seconds.duration().as_millis() as i64),
            reason: "429 Too Many Requests".into(),
        },
        RequestError::MigrateToChatId(new) => DeliveryError::ChatMoved(new.0.to_string()),
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots,
        ) => DeliveryError::Gone("the bot can no longer write to this chat".into()),
        // Telegram's (or its proxy's) own trouble: worth trying again.
        RequestError::Api(ApiError::Unknown(description))
            if [
                "Internal Server Error",
                "Bad Gateway",
                "Service Unavailable",
                "Gateway Timeout",
            ]
            .iter()
            .any(|trouble| description.contains(trouble)) =>
        {
            DeliveryError::Retry {
                after_ms: None,
                reason: description,
            }
        }
        // Telegram words its refusals in more ways than teloxide knows ("Forbidden: bot can't
        // initiate conversation with a user"): any 403 means the chat is closed to the bot.
        RequestError::Api(ApiError::Unknown(description)) if description.starts_with("Forbidden") => {
            DeliveryError::Gone(description)
        }
        RequestError::Api(e) => DeliveryError::Permanent(e.to_string()),
        RequestError::Network(e) => DeliveryError::Retry {
            after_ms: None,
            reason: format!("network: {e}"),
        },
        RequestError::Io(e) => DeliveryError::Retry {
            after_ms: None,
            reason: format!("I/O: {e}"),
        },
        RequestError::InvalidJson { source, .. } => DeliveryError::Retry {
            after_ms: None,
            reason: format!("bad answer: {source}"),
        },
    }
}

impl TelegramDeliverer {
    /// Waits for the chat's own budget (for the second and later parts of a message).
    async fn chat_budget(&self, chat: ChatId) {
        let limiter = if chat.0 < 0 { &self.groups } else { &self.private_chats };
        while let Err(not_until) = limiter.check_key(&chat.0) {
            tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
        }
    }

    /// A photo with the text as its caption: the first 1,024 characters (at a natural boundary)
    /// under the photo, the rest as messages after it, the buttons under the last. Returns the
    /// last message's id and the photo's file id as Telegram keeps it (the largest size).
    async fn send_photo(
        &self,
        chat: ChatId,
        photo: teloxide::types::InputFile,
        message: &Message,
    ) -> Result<(String, Option<String>), DeliveryError> {
        let caption_parts = split_for_html(&message.text, CAPTION_LIMIT);
        let caption = caption_parts.first().cloned().unwrap_or_default();
        let rest = message.text.get(caption.len()..).unwrap_or_default().trim_start();
        let rest_parts = if rest.is_empty() {
            Vec::new()
        } else {
            split_for_html(rest, MESSAGE_LIMIT)
        };
        self.ready(chat.0, false).await;
        let mut request = self
            .bot
            .send_photo(chat, photo)
            .caption(escape_html(&caption))
            .parse_mode(ParseMode::Html);
        if rest_parts.is_empty() && !message.buttons.is_empty() {
            request = request.reply_markup(keyboard(&message.buttons));
        }
        let sent = request.await.map_err(classify)?;
        let file_id = sent
            .photo()
            .and_then(|sizes| sizes.iter().max_by_key(|p| u64::from(p.width) * u64::from(p.height)))
            .map(|p| p.file.id.0.clone());
        let photo_id = sent.id.0.to_string();
        let last = self
            .send_parts(chat, &rest_parts, &message.buttons, true, false)
            .await?
            .unwrap_or(photo_id);
        Ok((last, file_id))
    }

    /// Sends text parts in order, the buttons under the last; returns the last one's id.
    /// `after_first`: a message of this delivery went out already; `paid`: sent as a paid
    /// broadcast. Every part after the first
    /// waits for the chat's budget (`admit` paid for the first), and one told to wait (429) is
    /// retried here, so the parts already sent are not sent again by a retry of the whole.
    async fn send_parts(
        &self,
        chat: ChatId,
        parts: &[String],
        buttons: &[Vec<Button>],
        after_first: bool,
        paid: bool,
    ) -> Result<Option<String>, DeliveryError> {
        let mut sent_id = None;
        for (i, part) in parts.iter().enumerate() {
            let later = after_first || i > 0;
            if later {
                self.chat_budget(chat).await;
            }
            let mut tries = 0;
            let sent = loop {
                self.ready(chat.0, paid).await;
                let mut request = self
                    .bot
                    .send_message(chat, escape_html(part))
                    .parse_mode(ParseMode::Html);
                if paid {
                    request = request.allow_paid_broadcast(true);
                }
                if i == parts.len() - 1 && !buttons.is_empty() {
                    request = request.reply_markup(keyboard(buttons));
                }
                match request.await {
                    Err(RequestError::RetryAfter(wait)) if later && tries < 5 => {
                        tries += 1;
                        tokio::time::sleep(wait.duration()).await;
                    }
                    other => break other.map_err(classify)?,
                }
            };
            sent_id = Some(sent.id.0.to_string());
        }
        Ok(sent_id)
    }
}

impl Deliverer for TelegramDeliverer {
    fn private_chat_link(&self) -> Option<String> {
        self.username.as_ref().map(|u| format!("{}hello", super::start_link(u)))
    }

    fn admit(&self, message: &Message) -> Result<(), Duration> {
        let Ok(chat) = message.chat_id.parse::<i64>() else {
            return Ok(());
        };
        let (limiter, period) = if chat < 0 {
            (&self.groups, self.limits.group)
        } else {
            (&self.private_chats, self.limits.private_chat)
        };
        let spacing = self.spacing(chat, period);
        let limited = if spacing.is_zero() {
            match limiter.check_key(&chat) {
                Ok(()) => {
                    self.note_request(chat);
                    return Ok(());
                }
                Err(not_until) => not_until.wait_time_from(self.clock.now()),
            }
        } else {
            Duration::ZERO
        };
        // Come back at the next slot nobody was promised yet, a tenth of a period after it (a
        // request can reach Telegram later than the one before it did), and promise the one
        // after to the next.
        let now = std::time::Instant::now();
        let free = now + limited.max(spacing);
        let mut reserved = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        if reserved.len() > 10_000 {
            reserved.retain(|_, slot| *slot > now);
        }
        let slot = reserved.get(&chat).map_or(free, |r| (*r).max(free));
        reserved.insert(chat, slot + period);
        Err(slot - now + period / 10 + Duration::from_millis(2))
    }

    async fn deliver(&self, message: &Message, edit_target: Option<&str>) -> Result<String, DeliveryError> {
        let chat: i64 = message
            .chat_id
            .parse()
            .map_err(|_| DeliveryError::Permanent(format!("bad chat id {}", message.chat_id)))?;
        let chat = ChatId(chat);
        if let Some(target) = edit_target {
            let id: i32 = target
                .parse()
                .map_err(|_| DeliveryError::Permanent(format!("bad message id {target}")))?;
            let text = escape_html(truncate_for_html(&message.text, MESSAGE_LIMIT));
            self.ready(chat.0, false).await;
            let request = self
                .bot
                .edit_message_text(chat, MessageId(id), text)
                .parse_mode(ParseMode::Html);
            let request = request.reply_markup(keyboard(&message.buttons));
            return match request.await {
                Ok(_) | Err(RequestError::Api(teloxide::ApiError::MessageNotModified)) => Ok(target.to_owned()),
                // A photo (a notice's) has a caption, not text: edit that. Telegram cannot take
                // the photo itself off a message.
                Err(RequestError::Api(e)) if e.to_string().contains("no text in the message") => {
                    let caption = escape_html(truncate_for_html(&message.text, CAPTION_LIMIT));
                    let request = self
                        .bot
                        .edit_message_caption(chat, MessageId(id))
                        .caption(caption)
                        .parse_mode(ParseMode::Html)
                        .reply_markup(keyboard(&message.buttons));
                    match request.await {
                        Ok(_) | Err(RequestError::Api(teloxide::ApiError::MessageNotModified)) => Ok(target.to_owned()),
                        Err(e) => Err(classify(e)),
                    }
                }
                Err(e) => Err(classify(e)),
            };
        }
        if let Some(photo) = &message.photo {
            let file = teloxide::types::InputFile::file_id(teloxide::types::FileId(photo.to_owned()));
            return Ok(self.send_photo(chat, file, message).await?.0);
        }
        // Split by the escaped length, then escape each part: no entity straddles a cut.
        let parts = split_for_html(&message.text, MESSAGE_LIMIT);
        Ok(self
            .send_parts(chat, &parts, &message.buttons, false, self.paid(message))
            .await?
            .unwrap_or_default())
    }

    /// Telegram keeps no picture without a message: the first send uploads it, and its file
    /// id serves every later send.
    async fn deliver_upload(&self, message: &Message, png: &[u8]) -> Result<(String, String), DeliveryError> {
        let chat: i64 = message
            .chat_id
            .parse()
            .map_err(|_| DeliveryError::Permanent(format!("bad chat id {}", message.chat_id)))?;
        let file = teloxide::types::InputFile::memory(png.to_vec()).file_name("safety-index.png");
        let (id, file_id) = self.send_photo(ChatId(chat), file, message).await?;
        let file_id =
            file_id.ok_or_else(|| DeliveryError::Permanent("Telegram answered a photo with no photo".into()))?;
        Ok((id, file_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::ApiError;
    use teloxide::types::Seconds;

    fn copy(alert_id: Option<i64>, priority: i64, edit_of: Option<i64>) -> Message {
        Message {
            id: 1,
            platform: crate::domain::Platform::Telegram,
            chat_id: "-1001".into(),
            text: "Flood warning".into(),
            buttons: Vec::new(),
            edit_of,
            priority,
            idem_key: "k".into(),
            alert_id,
            fallback_chat: None,
            photo: None,
            reply_to: None,
            attempts: 1,
            created_at: 0,
        }
    }

    #[test]
    fn only_urgent_alert_copies_are_paid_broadcasts_and_only_when_switched_on() {
        use crate::domain::AlertLevel;
        let urgent = AlertLevel::Urgent.priority();
        let on = TelegramDeliverer::with_limits(Bot::new("1:T"), Limits::telegram()).with_paid_broadcast(true);
        assert!(on.paid(&copy(Some(7), urgent, None)));
        assert!(
            !on.paid(&copy(Some(7), AlertLevel::Warning.priority(), None)),
            "a warning is free"
        );
        assert!(!on.paid(&copy(None, urgent, None)), "not an alert's copy");
        assert!(!on.paid(&copy(Some(7), urgent, Some(3))), "edits are free");
        let off = TelegramDeliverer::with_limits(Bot::new("1:T"), Limits::telegram());
        assert!(!off.paid(&copy(Some(7), urgent, None)), "off by default");
    }

    #[test]
    fn a_chat_over_its_budget_gets_successive_slots_one_period_apart() {
        let d = TelegramDeliverer::with_limits(Bot::new("1:T"), Limits::telegram());
        let group = copy(None, 0, None);
        assert!(d.admit(&group).is_ok(), "the first send is free");
        let first = d.admit(&group).unwrap_err();
        let second = d.admit(&group).unwrap_err();
        let third = d.admit(&group).unwrap_err();
        // Twenty a minute to a group: slots three seconds apart, not all at the same instant.
        assert!(first <= Duration::from_millis(3460), "{first:?}");
        let gap = |a: Duration, b: Duration| b.saturating_sub(a);
        assert!(
            gap(first, second) >= Duration::from_millis(2990),
            "{first:?} {second:?}"
        );
        assert!(
            gap(second, third) >= Duration::from_millis(2990),
            "{second:?} {third:?}"
        );
    }

    #[test]
    fn telegram_errors_map_to_retry_decisions() {
        assert_eq!(
            classify(RequestError::RetryAfter(Seconds::from_seconds(3))),
            DeliveryError::Retry {
                after_ms: Some(3000),
                reason: "429 Too Many Requests".into()
            }
        );
        assert!(matches!(
            classify(RequestError::Api(ApiError::BotBlocked)),
            DeliveryError::Gone(_)
        ));
        assert_eq!(
            classify(RequestError::MigrateToChatId(ChatId(-1009))),
            DeliveryError::ChatMoved("-1009".into())
        );
        assert!(matches!(
            classify(RequestError::Api(ApiError::MessageTextIsEmpty)),
            DeliveryError::Permanent(_)
        ));
    }
}
