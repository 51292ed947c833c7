//! Questions: answered from the FAQ by keyword match, or queued for the station's officers,
//! whose `/answer Q TEXT` is relayed to the asker.
//!
//! Matching segments the question with jieba (Chinese and English alike) and counts the FAQ
//! keywords whose own segmentation appears as a run of the question's words; whole-word
//! matching keeps 身份证 from matching inside 身份证明 and "id" from matching inside "idle".
//! A match needs two keywords, or one in a short question, and a clear winner; anything less
//! goes to a person.

use std::sync::{Arc, LazyLock};

use anyhow::Result;
use jieba_rs::Jieba;

use super::{Ctx, Dispatched, UserError};
use crate::scripts::Faq;
use crate::store::{people, questions};

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

fn words(text: &str) -> Vec<String> {
    JIEBA
        .cut(&text.to_lowercase(), false)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// The FAQ, pre-segmented.
pub struct FaqIndex {
    entries: Vec<(Faq, Vec<Vec<String>>)>,
}

impl FaqIndex {
    pub fn new(faq: &[Faq]) -> Arc<FaqIndex> {
        let entries = faq
            .iter()
            .map(|e| {
                let keywords = e
                    .keywords_zh
                    .iter()
                    .chain(&e.keywords_en)
                    .map(|k| words(k))
                    .filter(|k| !k.is_empty())
                    .collect();
                (e.clone(), keywords)
            })
            .collect();
        Arc::new(FaqIndex { entries })
    }

    /// The entry that clearly answers `question`, if one does.
    pub fn best(&self, question: &str) -> Option<&Faq> {
        let q = words(question);
        let mut scored: Vec<(usize, &Faq)> = self
            .entries
            .iter()
            .map(|(e, kws)| (kws.iter().filter(|k| contains_run(&q, k)).count(), e))
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        let (top, entry) = *scored.first()?;
        let runner_up = scored.get(1).map(|s| s.0).unwrap_or(0);
        let enough = top >= 2 || q.len() <= 6;
        (enough && top > runner_up).then_some(entry)
    }
}

fn contains_run(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `/ask QUESTION`.
pub async fn ask_command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    if rest.trim().is_empty() {
        return Err(UserError::new("ask.usage").into());
    }
    ask(ctx, rest.trim()).await
}

/// A question in DM, mentioning the bot, or after `/ask`.
pub async fn ask(ctx: &mut Ctx<'_>, question: &str) -> Result<(), Dispatched> {
    let faq = Arc::clone(ctx.faq);
    if let Some(entry) = faq.best(question) {
        let text = ctx.msg(
            "ask.answer",
            &[
                ("question", entry.question.get(ctx.lang)),
                ("answer", entry.answer.get(ctx.lang)),
            ],
        );
        ctx.reply(text);
        return Ok(());
    }
    let Some(station) = ctx.station() else {
        return Err(UserError::new("common.no_station").into());
    };
    let id = questions::insert(ctx.tx, &station, ctx.me.id, question, None, None, ctx.now).await?;
    let n = id.to_string();
    let text = ctx.msg("ask.queued", &[("n", &n)]);
    ctx.reply(text);
    let redacted = crate::domain::redact_numbers(question);
    for officer in people::staff(ctx.tx, &station, None, false).await? {
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

/// `/answer Q TEXT`: relays an officer's answer to whoever asked (questions and feedback).
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
    ctx.to_me(reply, Vec::new());
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
