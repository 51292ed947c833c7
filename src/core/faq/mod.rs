//! Residents' questions: danger now answered with "call 110" and passed to the duty officers;
//! otherwise matched against bot-scripts' FAQ and the station's own entries (`crate::matching`)
//! and answered, offered as "Did you mean" buttons when two or three entries are close, or
//! queued for the station's officers, whose `/answer Q TEXT` is relayed to the asker and can be
//! added to the station's FAQ in one tap.

mod facts;
mod service;
pub mod station;

use std::sync::Arc;

use anyhow::Result;

pub use facts::{fill_facts, station_command};
pub use service::FaqService;

use super::{Ctx, Dispatched, Outbound, UserError};
use crate::domain::{Button, Press, redact_numbers};
use crate::store::people;
use crate::store::questions::{self, Status};
use crate::store::station_faq::{self, Facts};

/// `/ask QUESTION`.
pub async fn ask_command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    if rest.trim().is_empty() {
        return Err(UserError::new("ask.usage").into());
    }
    ask(ctx, rest.trim()).await
}

/// The question without the mentions that addressed it (`@beatbot_bot`, `@beatbot:example.org`).
fn without_mentions(text: &str) -> String {
    static MENTION: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"@[A-Za-z0-9_.:\-]+").expect("valid regex"));
    let cleaned = MENTION.replace_all(text, " ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() { text.to_owned() } else { cleaned }
}

/// A question in DM, mentioning the bot, or after `/ask`.
pub async fn ask(ctx: &mut Ctx<'_>, question: &str) -> Result<(), Dispatched> {
    let question = &without_mentions(question);
    let station = ctx.station();
    let faq = Arc::clone(ctx.faq);
    let (index, facts) = faq.for_question(ctx.tx, station.as_deref()).await?;
    if index.is_emergency(question) {
        return emergency(ctx, station, question).await;
    }
    let decision = index.decide(question);
    if let Some(id) = decision.answer
        && let Some(text) = answer_text(ctx, &id, station.as_deref(), facts.as_ref()).await?
    {
        ctx.reply(text);
        return Ok(());
    }
    let Some(station) = station else {
        return Err(UserError::new("common.no_station").into());
    };
    if !decision.suggestions.is_empty() {
        return suggest(ctx, &station, question, &decision.suggestions).await;
    }
    let id = record(ctx, &station, question, Status::Queued).await?;
    let text = ctx.msg("ask.queued", &[("n", &id.to_string())]);
    ctx.reply(text);
    tell_officers(ctx, &station, id, question).await
}

/// Keeps the sender's question at `station` in the given state.
async fn record(ctx: &mut Ctx<'_>, station: &str, question: &str, status: Status) -> Result<i64> {
    questions::insert(ctx.tx, station, ctx.me.id, question, None, None, status, ctx.now).await
}

async fn tell_officers(ctx: &mut Ctx<'_>, station: &str, id: i64, question: &str) -> Result<(), Dispatched> {
    let n = id.to_string();
    let redacted = redact_numbers(question);
    for officer in people::staff(ctx.tx, station, None, false).await? {
        ctx.tell(
            &officer,
            "ask.officer_new",
            &[("n", &n), ("text", &redacted)],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}

/// Danger now: "call 110" to the asker at once, and the duty officers (else every officer of the
/// station) get the message with numbers masked and who wrote it — never just a queue entry.
async fn emergency(ctx: &mut Ctx<'_>, station: Option<String>, question: &str) -> Result<(), Dispatched> {
    let text = ctx.msg("ask.emergency", &[]);
    ctx.reply(text);
    let Some(station) = station else {
        tracing::warn!(
            person = ctx.me.id,
            "danger-now message from someone with no station: told to call 110"
        );
        return Ok(());
    };
    let id = record(ctx, &station, question, Status::Emergency).await?;
    let duty = people::staff(ctx.tx, &station, None, true).await?;
    let officers = people::or_station_staff(ctx.tx, &station, duty).await?;
    let n = id.to_string();
    let redacted = redact_numbers(question);
    let who = ctx.me.handle.clone();
    let place = if ctx.inbound.is_direct { "dm" } else { "group" };
    for officer in &officers {
        let lang = ctx.lang_of(officer);
        let place = ctx
            .scripts
            .templates
            .render(lang, &format!("ask.emergency_where_{place}"), &[]);
        let text = ctx.scripts.templates.render(
            lang,
            "ask.emergency_officer",
            &[("n", &n), ("who", &who), ("where", &place), ("text", &redacted)],
        );
        let mut out = Outbound::new(super::Recipient::Person(officer.id), text);
        out.priority = crate::domain::AlertLevel::Urgent.priority();
        ctx.send(out);
    }
    tracing::warn!(
        question = id,
        station = %station,
        officers = officers.len(),
        "danger-now message: asker told to call 110, duty officers told"
    );
    Ok(())
}

/// Two or three close entries: offered as buttons; the question waits for the asker's choice.
async fn suggest(ctx: &mut Ctx<'_>, station: &str, question: &str, ids: &[String]) -> Result<(), Dispatched> {
    let q = record(ctx, station, question, Status::Suggested).await?;
    let mut rows = Vec::new();
    for id in ids {
        let label = entry_question(ctx, id, station).await?;
        rows.push(vec![Button::new(
            label,
            &Press::FaqPick {
                question: q,
                entry: id.clone(),
            },
        )]);
    }
    rows.push(vec![Button::new(
        ctx.msg("ask.none_of_these", &[]),
        &Press::FaqNone { question: q },
    )]);
    let text = ctx.msg("ask.did_you_mean", &[]);
    ctx.reply_with(text, rows);
    Ok(())
}

/// The question an entry answers, in the asker's language (a station entry: as the officer kept it).
async fn entry_question(ctx: &mut Ctx<'_>, id: &str, station: &str) -> Result<String> {
    if let Some(n) = service::station_entry_no(id) {
        // A resident's wording is not shown to other residents: the officer's answer labels it.
        let entry = station_faq::get(ctx.tx, station, n).await?;
        return Ok(entry
            .map(|e| {
                let start: String = e.answer.chars().take(40).collect();
                if e.answer.chars().count() > 40 {
                    format!("{start}…")
                } else {
                    start
                }
            })
            .unwrap_or_else(|| id.to_owned()));
    }
    let lang = ctx.lang;
    Ok(ctx
        .scripts
        .faq
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.question.get(lang).to_owned())
        .unwrap_or_else(|| id.to_owned()))
}

/// The answer message for an entry, station facts filled in (unset ones' lines left out); a
/// station entry's answer under the station's name, without the wording of the resident whose
/// question it came from. `None` for an entry that is gone (a station entry removed since).
async fn answer_text(
    ctx: &mut Ctx<'_>,
    id: &str,
    station: Option<&str>,
    facts: Option<&Facts>,
) -> Result<Option<String>> {
    if let Some(n) = service::station_entry_no(id) {
        let Some(station) = station else {
            return Ok(None);
        };
        let entry = station_faq::get(ctx.tx, station, n).await?;
        let name = facts.map(|f| f.name.clone()).unwrap_or_else(|| station.to_owned());
        return Ok(entry.map(|e| ctx.msg("ask.station_answer", &[("station", &name), ("answer", &e.answer)])));
    }
    let Some(entry) = ctx.scripts.faq.iter().find(|f| f.id == id) else {
        return Ok(None);
    };
    let answer = fill_facts(entry.answer.get(ctx.lang), facts);
    Ok(Some(ctx.msg(
        "ask.answer",
        &[("question", entry.question.get(ctx.lang)), ("answer", &answer)],
    )))
}

/// A press on this module's buttons.
pub async fn press(ctx: &mut Ctx<'_>, press: Press, message: Option<i64>) -> Result<(), Dispatched> {
    match press {
        Press::FaqPick { question, entry } => pick(ctx, question, &entry, message).await,
        Press::FaqNone { question } => none_of_these(ctx, question, message).await,
        Press::FaqAdd { question } if ctx.me.role.is_staff() => {
            station::add_from_question(ctx, question, message).await
        }
        _ => Err(UserError::new("common.expired_button").into()),
    }
}

async fn own_suggestion(ctx: &mut Ctx<'_>, q: i64, to: Status) -> Result<questions::Question, Dispatched> {
    let question = questions::get(ctx.tx, q)
        .await?
        .ok_or_else(|| UserError::new("common.expired_button"))?;
    if question.asker_id != ctx.me.id {
        return Err(UserError::new("common.not_your_button").into());
    }
    if !questions::set_status(ctx.tx, q, Status::Suggested, to).await? {
        return Err(UserError::new("ask.already_chosen").into());
    }
    Ok(question)
}

async fn pick(ctx: &mut Ctx<'_>, q: i64, entry: &str, message: Option<i64>) -> Result<(), Dispatched> {
    let question = own_suggestion(ctx, q, Status::SelfServed).await?;
    let facts = station_faq::facts(ctx.tx, &question.station_id).await?;
    // An entry removed since the buttons went out: nothing changes, the asker may choose again.
    let text = answer_text(ctx, entry, Some(&question.station_id), facts.as_ref())
        .await?
        .ok_or_else(|| UserError::new("common.expired_button"))?;
    let mut out = Outbound::new(ctx.here(), text);
    out.edit_of = message;
    ctx.send(out);
    Ok(())
}

async fn none_of_these(ctx: &mut Ctx<'_>, q: i64, message: Option<i64>) -> Result<(), Dispatched> {
    let question = own_suggestion(ctx, q, Status::Queued).await?;
    let text = ctx.msg("ask.queued", &[("n", &q.to_string())]);
    let mut out = Outbound::new(ctx.here(), text);
    out.edit_of = message;
    ctx.send(out);
    tell_officers(ctx, &question.station_id, q, &question.text).await
}

/// `/answer Q TEXT`: relays an officer's answer to whoever asked (questions and feedback); a
/// question's answer can then be added to the station's FAQ with one tap.
pub async fn answer(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let rest = rest.trim();
    let Some((raw, text)) = rest
        .split_once(char::is_whitespace)
        .map(|(a, b)| (a, b.trim()))
        .filter(|(_, t)| !t.is_empty())
    else {
        return Err(UserError::new("answer.usage").into());
    };
    let id: Option<i64> = raw.trim_start_matches(['#', 'q', 'Q', 'f', 'F']).parse().ok();
    let question = match id {
        Some(id) => questions::get(ctx.tx, id).await?,
        None => None,
    };
    let Some(q) = question.filter(|q| Some(q.station_id.as_str()) == ctx.me.station_id.as_deref()) else {
        return Err(UserError::new("answer.not_found")
            .arg("n", raw.chars().take(20).collect::<String>())
            .into());
    };
    if q.answered || !questions::answer(ctx.tx, q.id, ctx.me.id, text, ctx.now).await? {
        return Err(UserError::new("answer.already").arg("n", q.id.to_string()).into());
    }
    let n = q.id.to_string();
    let label = if q.category.is_some() {
        format!("F{n}")
    } else {
        format!("Q{n}")
    };
    let reply = ctx.msg("answer.relayed", &[("label", &label)]);
    let buttons = if q.category.is_none() && q.status != Status::Emergency {
        vec![vec![Button::new(
            ctx.msg("answer.add_to_faq", &[]),
            &Press::FaqAdd { question: q.id },
        )]]
    } else {
        Vec::new()
    };
    ctx.to_me(reply, buttons);
    if let Some(asker) = ctx.person(q.asker_id).await? {
        let key = if q.category.is_some() {
            "answer.to_feedback"
        } else {
            "answer.to_asker"
        };
        ctx.tell(
            &asker,
            key,
            &[("n", &n), ("question", &q.text), ("answer", text)],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}
