//! The assembled bot: store, scripts, clock. [`App::handle`] is the one door every inbound
//! event goes through: dedupe, dispatch and outbox rows in one transaction. The admin calls
//! here are the same for the CLI (`beatbot station add …`) and for transcript `@` lines.

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::clock::Clock;
use crate::core::faq::FaqService;
use crate::core::{Ctx, Dispatched, Inbound, Outbound, Recipient, dispatch};
use crate::domain::{GroupKind, Lang, Platform, Role};
use crate::flood::Verdict;
use crate::scripts::Scripts;
use crate::store::outbox::{NewMessage, Target};
use crate::store::people::NewPerson;
use crate::store::{self, Store, Tx, groups, inbound, outbox, people, stations};

/// The savepoint a command runs under, rolled back to when it is refused.
const COMMAND_SAVEPOINT: &str = "command";

/// Who sent an event: the person, the linked group it came from, and whether the identity
/// they wrote from has a private chat with the bot.
type Identity = (people::Person, Option<groups::Group>, bool);

#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub scripts: Arc<Scripts>,
    pub faq: Arc<FaqService>,
    pub clock: Arc<dyn Clock>,
    pub start_links: StartLinks,
    /// Who is sending too much, in memory (see [`crate::flood`]).
    pub flood: Arc<crate::flood::Flood>,
}

/// Per platform, how a link into a private chat with the bot begins, learnt when the platform
/// connects (Telegram's `https://t.me/<bot>?start=`); shared by every clone of the [`App`].
#[derive(Clone, Default)]
pub struct StartLinks(Arc<std::sync::RwLock<std::collections::HashMap<Platform, String>>>);

impl StartLinks {
    pub fn set(&self, platform: Platform, base: String) {
        if let Ok(mut links) = self.0.write() {
            links.insert(platform, base);
        }
    }
    pub fn get(&self, platform: Platform) -> Option<String> {
        self.0.read().ok().and_then(|links| links.get(&platform).cloned())
    }
}

/// What became of an inbound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Done,
    /// Seen before: nothing was done again.
    Duplicate,
}

impl App {
    pub fn new(store: Store, scripts: Scripts, clock: Arc<dyn Clock>) -> App {
        let faq = FaqService::new(&scripts);
        App::from_parts(store, Arc::new(scripts), faq, clock)
    }

    /// An app over scripts and an FAQ index already loaded (tests share one of each).
    pub fn from_parts(store: Store, scripts: Arc<Scripts>, faq: Arc<FaqService>, clock: Arc<dyn Clock>) -> App {
        App {
            store,
            scripts,
            faq,
            clock,
            start_links: StartLinks::default(),
            flood: Arc::default(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Handles one event exactly once: its dedupe record, its effects and its messages commit
    /// together. A user mistake rolls the effects back and sends only the explanation.
    #[tracing::instrument(skip_all, fields(platform = %event.platform, event = %event.event_id))]
    pub async fn handle(&self, event: &Inbound) -> Result<Handled> {
        let started = std::time::Instant::now();
        let result = self.handle_once(event).await;
        count(event, &result, started.elapsed());
        result.map(|(handled, _)| handled)
    }

    /// Handles `events` in their order in one transaction (a group commit: one COMMIT for a
    /// whole `getUpdates` batch), each under its own savepoint, each seeing the ones before it
    /// as if they had been handled one at a time. `None` when one of them failed: then nothing
    /// was committed and the caller handles them one at a time, as [`App::handle`] does.
    pub async fn handle_batch(&self, events: &[Inbound]) -> Result<Option<Vec<Handled>>> {
        let started = std::time::Instant::now();
        let mut tx = self.store.begin().await?;
        let mut results = Vec::with_capacity(events.len());
        for event in events {
            let now = self.now();
            store::savepoint(&mut tx, COMMAND_SAVEPOINT).await?;
            match self.handle_in(&mut tx, event, now).await {
                Ok(result) => {
                    store::release_savepoint(&mut tx, COMMAND_SAVEPOINT).await?;
                    results.push(result);
                }
                Err(e) => {
                    tx.rollback().await.ok();
                    tracing::warn!(error = %format!("{e:#}"), event = %event.event_id, "an update of a batch failed; handling the batch one by one");
                    return Ok(None);
                }
            }
        }
        tx.commit().await.context("committing a batch of inbound events")?;
        // Each update's handling time is its share of the batch's.
        let each = started.elapsed() / events.len().max(1) as u32;
        Ok(Some(
            events
                .iter()
                .zip(results)
                .map(|(event, result)| {
                    count(event, &Ok(result), each);
                    result.0
                })
                .collect(),
        ))
    }

    /// [`App::handle`]; also whether the event was refused (a user mistake).
    async fn handle_once(&self, event: &Inbound) -> Result<(Handled, bool)> {
        let now = self.now();
        // A refused command is undone back to this savepoint (taken with the BEGIN, in the same
        // round trip); the dedupe record, the sender's identification and the refusal are then
        // written again in the same transaction.
        let mut tx = self.store.begin_at_savepoint(COMMAND_SAVEPOINT).await?;
        match self.handle_in(&mut tx, event, now).await {
            Ok((Handled::Duplicate, refused)) => {
                tx.rollback().await.ok();
                Ok((Handled::Duplicate, refused))
            }
            Ok(done) => {
                tx.commit().await.context("committing inbound event")?;
                Ok(done)
            }
            Err(e) => {
                tx.rollback().await.ok();
                Err(e)
            }
        }
    }

    /// The work of one event inside `tx`, which holds savepoint [`COMMAND_SAVEPOINT`] taken
    /// just before: dedupe record, identification, dispatch and outbox rows, or (a user
    /// mistake) everything since the savepoint undone and only the explanation queued. The
    /// caller commits; an `Err` leaves `tx` to be rolled back.
    async fn handle_in(&self, tx: &mut Tx, event: &Inbound, now: i64) -> Result<(Handled, bool)> {
        if !inbound::record(tx, event.platform, &event.event_id, now).await? {
            return Ok((Handled::Duplicate, false));
        }
        if self.flooded(tx, event, now).await? {
            return Ok((Handled::Done, false));
        }
        let identity = self.identify(tx, event, now).await?;
        let mut ctx = self.context(tx, event, identity, now);
        match dispatch(&mut ctx).await {
            Ok(()) => {
                let out = std::mem::take(&mut ctx.out);
                let (me, lang) = (ctx.me.id, ctx.lang);
                drop(ctx);
                let fallback = (!event.is_direct).then_some(event.chat_id.as_str());
                let unreachable = enqueue_from(tx, &out, &event_key(event), fallback, now).await?;
                if !event.is_direct && unreachable.contains(&me) {
                    // The answer belongs in a private chat the person has never opened.
                    let text = self.scripts.templates.render(lang, "common.open_private_chat", &[]);
                    let here = Recipient::Chat {
                        platform: event.platform,
                        chat_id: event.chat_id.clone(),
                    };
                    enqueue(
                        tx,
                        &[Outbound::new(here, text)],
                        &format!("{}:dm", event_key(event)),
                        now,
                    )
                    .await?;
                }
            }
            Err(Dispatched::User(err)) => {
                let lang = ctx.lang;
                drop(ctx);
                store::rollback_to_savepoint(tx, COMMAND_SAVEPOINT)
                    .await
                    .context("rolling back a refused command")?;
                inbound::record(tx, event.platform, &event.event_id, now).await?;
                self.identify(tx, event, now).await?;
                // Whatever a refusal echoes back never shows a long number in a group.
                let args: Vec<(&str, String)> = err
                    .args
                    .iter()
                    .map(|(k, v)| {
                        (
                            *k,
                            if event.is_direct {
                                v.clone()
                            } else {
                                crate::domain::redact_numbers(v)
                            },
                        )
                    })
                    .collect();
                let text = self.scripts.templates.render(
                    lang,
                    err.key,
                    &args.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
                );
                let to = Recipient::Chat {
                    platform: event.platform,
                    chat_id: event.chat_id.clone(),
                };
                let mut refusal = Outbound::new(to, text);
                refusal.reply_to = Some(event.event_id.clone());
                enqueue(tx, &[refusal], &event_key(event), now).await?;
                return Ok((Handled::Done, true));
            }
            Err(Dispatched::Internal(err)) => {
                drop(ctx);
                return Err(err.context("handling inbound event"));
            }
        }
        Ok((Handled::Done, false))
    }

    /// Whether `event` is one too many from its sender or its group ([`crate::flood`]): the
    /// first one over the limit is answered with "slow down" in the chat, the rest ignored.
    async fn flooded(&self, tx: &mut Tx, event: &Inbound, now: i64) -> Result<bool> {
        let settings = &self.scripts.settings;
        let group = (!event.is_direct).then_some(event.chat_id.as_str());
        let verdict = self.flood.check(
            event.platform,
            &event.sender,
            group,
            now,
            settings.flood_per_person,
            settings.flood_per_group,
        );
        match verdict {
            Verdict::Pass => Ok(false),
            Verdict::Drop => Ok(true),
            Verdict::Warn => {
                tracing::warn!(platform = %event.platform, in_group = group.is_some(), "too many messages at once: ignoring them for a few seconds");
                let (me, _, _) = self.identify(tx, event, now).await?;
                let lang = crate::core::context_language(&self.scripts, &me);
                let text = self.scripts.templates.render(lang, "common.slow_down", &[]);
                let here = Recipient::Chat {
                    platform: event.platform,
                    chat_id: event.chat_id.clone(),
                };
                enqueue(tx, &[Outbound::new(here, text)], &event_key(event), now).await?;
                Ok(true)
            }
        }
    }

    fn context<'a>(&'a self, tx: &'a mut Tx, event: &'a Inbound, identity: Identity, now: i64) -> Ctx<'a> {
        let (me, group, private_chat_known) = identity;
        let lang = crate::core::context_language(&self.scripts, &me);
        Ctx {
            tx,
            scripts: &self.scripts,
            faq: &self.faq,
            now,
            inbound: event,
            me,
            lang,
            group,
            private_chat_known,
            start_link: self.start_links.get(event.platform),
            out: Vec::new(),
        }
    }

    /// The sender (created as a resident on first contact), the linked group if any, and
    /// whether the identity they wrote from has a private chat with the bot.
    async fn identify(&self, tx: &mut Tx, event: &Inbound, now: i64) -> Result<Identity> {
        let group = if event.is_direct {
            None
        } else {
            groups::find(tx, event.platform, &event.chat_id)
                .await?
                .filter(|g| g.active)
        };
        // Activity is kept to the day (a silent group gets tips weekly at most): one write a day.
        if let Some(g) = &group
            && now - g.last_active_at >= groups::ACTIVITY_RESOLUTION_MS
        {
            groups::touch(tx, g.id, now).await?;
        }
        let seen = people::seen(tx, event.platform, &event.sender).await?;
        let (person, known_chat, last_seen) = match seen {
            Some(s) => (s.person, s.dm_chat, s.last_seen_at),
            None => {
                let handle = format!("{}:{}", event.platform, event.sender);
                let new = NewPerson {
                    handle: &handle,
                    role: Role::Resident,
                    station_id: None,
                    beat: None,
                    hotel_id: None,
                    duty: false,
                    lang: None,
                };
                let id = people::upsert(tx, &new, now).await?;
                people::link_identity(tx, event.platform, &event.sender, id, None, now).await?;
                let person = people::by_id(tx, id).await?.context("person just created")?;
                (person, None, 0)
            }
        };
        // A private message makes this chat the place to reach them. The write is skipped
        // when nothing changed within a minute: "used last" needs no finer resolution.
        let mut known_chat = known_chat;
        if known_chat.is_none()
            && let Some(chat) = &event.sender_private_chat
        {
            people::remember_private_chat(tx, event.platform, &event.sender, chat).await?;
            known_chat = Some(chat.clone());
        }
        let stale = now - last_seen > 60_000;
        if event.is_direct && (known_chat.as_deref() != Some(event.chat_id.as_str()) || stale) {
            people::link_identity(tx, event.platform, &event.sender, person.id, Some(&event.chat_id), now).await?;
            // Whatever this chat refused before (never opened, or the bot was blocked) follows
            // now that the person writes here.
            outbox::revive_for_chat(tx, event.platform, &event.chat_id, now).await?;
        }
        if let (Role::Liaison, Some(hotel)) = (person.role, person.hotel_id)
            && person
                .hotel_active_at
                .is_none_or(|at| now - at >= stations::HOTEL_ACTIVITY_RESOLUTION_MS)
        {
            // The silent-hotel watch counts any word from a front desk.
            stations::touch_hotel(tx, hotel, now).await?;
        }
        let mut person = person;
        if let (Some(g), None, Role::Resident) = (&group, &person.station_id, person.role) {
            people::adopt_station(tx, person.id, &g.station_id).await?;
            person.station_id = Some(g.station_id.clone());
            person.station_lang = Some(g.lang);
        }
        Ok((person, group, event.is_direct || known_chat.is_some()))
    }

    // ----- admin service calls (CLI and transcript `@` lines) -----

    pub async fn add_station(&self, id: &str, name: &str, lang: Option<Lang>) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let lang = lang.unwrap_or(self.scripts.settings.default_lang);
        if !stations::add(&mut tx, id, name, lang, self.now()).await? {
            bail!("station `{id}` exists already");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds or updates a person with a role; returns their id.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_person(
        &self,
        handle: &str,
        role: Role,
        station: Option<&str>,
        beat: Option<&str>,
        hotel: Option<&str>,
        duty: bool,
        lang: Option<Lang>,
        identities: &[(Platform, String, Option<String>)],
    ) -> Result<i64> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if let Some(station) = station {
            stations::get(&mut tx, station)
                .await?
                .with_context(|| format!("no station `{station}`: add it first"))?;
            if let Some(beat) = beat {
                stations::ensure_beat(&mut tx, station, beat).await?;
            }
        }
        let hotel_id = match (hotel, station) {
            (Some(h), Some(s)) => {
                let id = stations::ensure_hotel(&mut tx, s, h, beat).await?;
                stations::touch_hotel(&mut tx, id, now).await?;
                Some(id)
            }
            (Some(_), None) => bail!("a hotel needs a station"),
            _ => None,
        };
        let person_beat = if role.is_staff() { beat } else { None };
        let new = NewPerson {
            handle,
            role,
            station_id: station,
            beat: person_beat,
            hotel_id,
            duty,
            lang,
        };
        let id = people::upsert(&mut tx, &new, now).await?;
        // Never "used" yet (time 0): the first private message counts as the first use.
        for (platform, external, dm) in identities {
            people::link_identity(&mut tx, *platform, external, id, dm.as_deref(), 0).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn link_group(&self, platform: Platform, chat_id: &str, kind: GroupKind, station: &str) -> Result<i64> {
        let mut tx = self.store.begin().await?;
        stations::get(&mut tx, station)
            .await?
            .with_context(|| format!("no station `{station}`: add it first"))?;
        let id = groups::link(&mut tx, platform, chat_id, kind, station, self.now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets how many days personal data of the station's finished tickets is kept.
    pub async fn set_retention(&self, station: &str, days: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !crate::store::retention::set_days(&mut tx, station, days).await? {
            bail!("there is no station `{station}`");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets (or with `None` clears) a station fact FAQ answers show: `address`, `phone`, `hours`,
    /// `household_hours`.
    pub async fn set_station_fact(&self, station: &str, key: &str, value: Option<&str>) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if !crate::store::station_faq::set_fact(&mut tx, station, key, value).await? {
            bail!("there is no station `{station}`");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The FAQ index a question at `station` is matched against (its own entries included).
    pub async fn faq_index(&self, station: &str) -> Result<Arc<crate::matching::FaqIndex>> {
        let mut tx = self.store.begin().await?;
        let (index, facts) = self.faq.for_question(&mut tx, Some(station)).await?;
        tx.commit().await?;
        if facts.is_none() {
            bail!("there is no station `{station}`");
        }
        Ok(index)
    }

    /// Makes a resident a member of a station (as being seen in its community group does).
    pub async fn adopt_station(&self, person: i64, station: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        people::adopt_station(&mut tx, person, station).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn event_key(event: &Inbound) -> String {
    format!("in:{}:{}", event.platform, event.event_id)
}

/// Writes messages to the outbox with keys `{cause}#{i}`; a person is reached in the private
/// chat they used last. Returns the people who could not be reached (no private chat known).
pub async fn enqueue(tx: &mut Tx, out: &[Outbound], cause: &str, now: i64) -> Result<Vec<i64>> {
    enqueue_from(tx, out, cause, None, now).await
}

/// [`enqueue`] for messages caused in a group: a person's message remembers `fallback_chat`, so
/// a refusal of their private chat can be announced there (without personal data).
pub async fn enqueue_from(
    tx: &mut Tx,
    out: &[Outbound],
    cause: &str,
    fallback_chat: Option<&str>,
    now: i64,
) -> Result<Vec<i64>> {
    let keys: Vec<String> = (0..out.len()).map(|i| format!("{cause}#{i}")).collect();
    let messages: Vec<NewMessage<'_>> = out
        .iter()
        .zip(&keys)
        .map(|(o, key)| new_message(o, key, fallback_chat))
        .collect();
    let inserted = outbox::enqueue_many(tx, &messages, now).await?;
    let mut unreachable = Vec::new();
    if inserted < messages.len() as u64 {
        // Rare: a re-enqueued key, or a person with no private chat.
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let missing = outbox::missing_keys(tx, &key_refs).await?;
        for (o, key) in out.iter().zip(&keys) {
            if let Recipient::Person(id) = o.to
                && missing.contains(key)
            {
                tracing::warn!(person = id, "no private chat known for person; message skipped");
                unreachable.push(id);
            }
        }
    }
    Ok(unreachable)
}

/// An outbox row for `o` under idempotency key `key`.
fn new_message<'a>(o: &'a Outbound, key: &'a str, fallback_chat: Option<&'a str>) -> NewMessage<'a> {
    NewMessage {
        target: match &o.to {
            Recipient::Chat { platform, chat_id } => Target::Chat(*platform, chat_id),
            Recipient::Person(id) => Target::Person(*id),
        },
        text: &o.text,
        buttons: &o.buttons,
        edit_of: o.edit_of,
        priority: o.priority,
        idem_key: key,
        alert_id: o.alert_id,
        photo: o.photo.as_deref(),
        reply_to: o.reply_to.as_deref(),
        fallback_chat: match o.to {
            Recipient::Person(_) => fallback_chat,
            Recipient::Chat { .. } => None,
        },
    }
}

/// Writes messages to the outbox each under its own idempotency key (a scheduled post's key
/// names its recipient and slot, so a second run of the same slot adds nothing); returns how
/// many rows were added. A person with no private chat known gets nothing.
pub async fn enqueue_keyed(tx: &mut Tx, out: &[(Outbound, String)], now: i64) -> Result<u64> {
    let messages: Vec<NewMessage<'_>> = out.iter().map(|(o, key)| new_message(o, key, None)).collect();
    outbox::enqueue_many(tx, &messages, now).await
}

/// Counts what became of `event` in the metrics.
fn count(event: &Inbound, result: &Result<(Handled, bool)>, took: std::time::Duration) {
    let outcome = match result {
        Ok((Handled::Done, false)) => "handled",
        Ok((Handled::Done, true)) => "refused",
        Ok((Handled::Duplicate, _)) => "duplicate",
        Err(_) => "failed",
    };
    let took = matches!(result, Ok((Handled::Done, _))).then(|| took.as_secs_f64());
    crate::metrics::get().update(event.platform, outcome, took);
}
