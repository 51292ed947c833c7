//! `/feedback TEXT`: classified, queued for the station's officers with a reply deadline.

use anyhow::Result;

use super::{Ctx, Dispatched, UserError};
use crate::store::people;
use crate::store::questions::{self, Status};

/// `/feedback TEXT`: classified by bot-scripts keywords, queued for the station's officers with
/// a reply deadline; answered with `/answer` like a question.
pub async fn feedback(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let text = rest.trim();
    if text.is_empty() {
        return Err(UserError::new("feedback.usage").into());
    }
    let Some(station) = ctx.station() else {
        return Err(UserError::new("common.no_station").into());
    };
    let lower = text.to_lowercase();
    let settings = &ctx.scripts.settings;
    let category = settings
        .feedback_categories
        .iter()
        .find(|(_, _, kws)| kws.iter().any(|k| lower.contains(k.as_str())))
        .or_else(|| settings.feedback_categories.last());
    let (cat_key, cat_label) = match category {
        Some((key, label, _)) => (key.clone(), label.clone()),
        None => (
            "other".to_owned(),
            crate::scripts::Text {
                zh: "其他".into(),
                en: "other".into(),
            },
        ),
    };
    let due = ctx.now + settings.feedback_reply_hours * 3_600_000;
    let id = questions::insert(
        ctx.tx,
        &station,
        ctx.me.id,
        text,
        Some(&cat_key),
        Some(due),
        Status::Queued,
        ctx.now,
    )
    .await?;
    let n = id.to_string();
    let hours = settings.feedback_reply_hours.to_string();
    let reply = ctx.msg(
        "feedback.received",
        &[("n", &n), ("category", cat_label.get(ctx.lang)), ("hours", &hours)],
    );
    ctx.to_me(reply, Vec::new());
    let redacted = crate::domain::redact_numbers(text);
    for officer in people::staff(ctx.tx, &station, None, false).await? {
        let lang = ctx.lang_of(&officer);
        ctx.tell(
            &officer,
            "feedback.officer_new",
            &[
                ("n", &n),
                ("category", cat_label.get(lang)),
                ("hours", &hours),
                ("text", &redacted),
            ],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}
