//! A station's own FAQ, learnt from its officers: an answered question added in one tap (the
//! button under "your answer has been sent", or `/faq add Q`), then listed, edited, given more
//! phrasings and removed with `/faq`. Matched beside bot-scripts' FAQ, for that station only.

use anyhow::Result;

use super::super::{Ctx, Dispatched, Outbound, UserError};
use crate::domain::redact_numbers;
use crate::store::questions::{self, Status};
use crate::store::station_faq::{self, Part};

/// Longest answer or phrasing kept (a chat message, not an essay).
const MAX_TEXT: usize = 2000;

/// `/faq`, `/faq add Q`, `/faq edit N ANSWER`, `/faq example N TEXT`, `/faq question N TEXT`,
/// `/faq remove N`.
pub async fn command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let rest = rest.trim();
    let (verb, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (n, text) = rest.trim().split_once(char::is_whitespace).unwrap_or((rest.trim(), ""));
    let text = text.trim();
    let number = || -> Result<i64, Dispatched> {
        n.trim_start_matches(['#', 'S', 's', 'Q', 'q'])
            .parse()
            .map_err(|_| UserError::new("faq.usage").into())
    };
    match verb.to_lowercase().as_str() {
        "" | "list" | "列表" => list(ctx, &station).await,
        "add" | "添加" if text.is_empty() => add_from_question(ctx, number()?, None).await,
        verb @ ("edit" | "修改" | "example" | "例句" | "question" | "问法") if !text.is_empty() => {
            let n = number()?;
            check_len(text)?;
            let (done, key) = match verb {
                "edit" | "修改" => (
                    station_faq::set_text(ctx.tx, &station, n, Part::Answer, text, ctx.now).await?,
                    "faq.edited",
                ),
                "example" | "例句" => (
                    station_faq::add_example(ctx.tx, &station, n, text, ctx.now).await?,
                    "faq.example_added",
                ),
                _ => (
                    station_faq::set_text(ctx.tx, &station, n, Part::Question, text, ctx.now).await?,
                    "faq.reworded",
                ),
            };
            if !done {
                return Err(not_found(n));
            }
            let reply = ctx.msg(key, &[("n", &n.to_string())]);
            ctx.reply(reply);
            Ok(())
        }
        "remove" | "删除" if text.is_empty() => {
            let n = number()?;
            if !station_faq::remove(ctx.tx, &station, n).await? {
                return Err(not_found(n));
            }
            let reply = ctx.msg("faq.removed", &[("n", &n.to_string())]);
            ctx.reply(reply);
            Ok(())
        }
        _ => Err(UserError::new("faq.usage").into()),
    }
}

fn not_found(n: i64) -> Dispatched {
    UserError::new("faq.not_found").arg("n", n.to_string()).into()
}

fn check_len(text: &str) -> Result<(), Dispatched> {
    if text.chars().count() > MAX_TEXT {
        return Err(UserError::new("faq.too_long").arg("max", MAX_TEXT.to_string()).into());
    }
    Ok(())
}

async fn list(ctx: &mut Ctx<'_>, station: &str) -> Result<(), Dispatched> {
    let entries = station_faq::list(ctx.tx, station).await?;
    let mut lines = Vec::new();
    for e in &entries {
        let answer: String = e.answer.chars().take(80).collect();
        let more = if e.answer.chars().count() > 80 { "…" } else { "" };
        lines.push(ctx.msg(
            "faq.line",
            &[
                ("n", &e.id.to_string()),
                ("question", &e.question),
                ("answer", &format!("{answer}{more}")),
                ("examples", &e.examples.len().to_string()),
            ],
        ));
    }
    let key = if entries.is_empty() { "faq.empty" } else { "faq.list" };
    let text = ctx.msg(key, &[("entries", &lines.join("\n"))]);
    ctx.reply(text);
    Ok(())
}

/// Question Q, answered by an officer of this station, becomes a station entry: the question
/// (long numbers masked) its first phrasing, the officer's answer its answer. From the button, the button's message is
/// edited to say so.
pub async fn add_from_question(ctx: &mut Ctx<'_>, q: i64, message: Option<i64>) -> Result<(), Dispatched> {
    let question = questions::get(ctx.tx, q)
        .await?
        .filter(|x| Some(x.station_id.as_str()) == ctx.me.station_id.as_deref());
    let Some(question) = question.filter(|x| x.category.is_none() && x.status != Status::Emergency) else {
        return Err(UserError::new("answer.not_found").arg("n", q.to_string()).into());
    };
    let Some(answer) = question.answer.filter(|_| question.answered) else {
        return Err(UserError::new("faq.not_answered").arg("n", q.to_string()).into());
    };
    // Other residents will see this phrasing: long numbers (a phone, an ID) are masked.
    let phrasing = redact_numbers(&question.text);
    let existing = station_faq::list(ctx.tx, &question.station_id).await?;
    if let Some(same) = existing.iter().find(|e| e.question == phrasing) {
        return Err(UserError::new("faq.already_added").arg("n", same.id.to_string()).into());
    }
    let n = station_faq::insert(ctx.tx, &question.station_id, &phrasing, &answer, ctx.me.id, ctx.now).await?;
    let text = ctx.msg("faq.added", &[("n", &n.to_string()), ("q", &q.to_string())]);
    match message {
        Some(_) => {
            let mut out = Outbound::new(ctx.here(), text);
            out.edit_of = message;
            ctx.send(out);
        }
        None => ctx.reply(text),
    }
    Ok(())
}
