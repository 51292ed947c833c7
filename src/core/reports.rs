//! `/report KIND key=value …`: one line files a ticket; missing required fields are asked for
//! in the reporter's private chat; the group only ever sees "ticket #N received".

use std::collections::BTreeMap;

use anyhow::Result;

use super::args::{Arg, arguments};
use super::dialogue::{ReportDraft, ask_next};
use super::fields::details;
use super::{Ctx, Dispatched, UserError, fields, tickets};
use crate::domain::{GroupKind, ReportKind, Role};
use crate::scripts::{Form, Scripts};
use crate::store::dialogues;

fn kinds_for(scripts: &Scripts, role: Role) -> String {
    scripts
        .forms
        .iter()
        .filter(|f| f.allows(role))
        .map(|f| f.kind.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

pub async fn report(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let args = arguments(rest).map_err(UserError::from)?;
    let usage = || UserError::new("report.usage").arg("kinds", kinds_for(ctx.scripts, ctx.me.role));
    let Some(Arg::Word(kind_word)) = args.first() else {
        return Err(usage().into());
    };
    let Some(kind) = ReportKind::parse(kind_word) else {
        return Err(UserError::new("report.unknown_kind")
            .arg("kind", kind_word.chars().take(20).collect::<String>())
            .arg("kinds", kinds_for(ctx.scripts, ctx.me.role))
            .into());
    };
    let form = ctx.scripts.form(kind);
    if !form.allows(ctx.me.role) {
        return Err(UserError::new("report.not_allowed")
            .arg("kind", form.title.get(ctx.lang))
            .into());
    }
    if let Some(group) = &ctx.group {
        let wanted = if ctx.me.role == Role::Liaison {
            GroupKind::Liaison
        } else {
            GroupKind::Community
        };
        if group.kind != wanted {
            return Err(UserError::new("report.wrong_group")
                .arg("kind", form.title.get(ctx.lang))
                .into());
        }
    }
    // A liaison reports for their hotel's station; a resident for the group's, else their own.
    let station = if ctx.me.role == Role::Liaison {
        ctx.me.station_id.clone()
    } else {
        ctx.station()
    };
    let Some(station) = station else {
        return Err(UserError::new("common.no_station").into());
    };
    require_private_chat(ctx).await?;
    let hotel_id = if ctx.me.role == Role::Liaison {
        Some(ctx.me.hotel_id.ok_or_else(|| UserError::new("common.not_enrolled"))?)
    } else {
        None
    };
    let fields = collect_fields(ctx, form, &args[1..])?;
    let draft = ReportDraft {
        kind,
        station,
        hotel_id,
        origin_group: ctx.group.as_ref().map(|g| g.id),
        fields,
        asking: None,
        picked: Vec::new(),
        skipped: Vec::new(),
        notice: None,
    };
    continue_draft(ctx, draft).await?;
    Ok(())
}

/// In a group, refuses (changing nothing) when the rest of the exchange would need a private
/// chat the person has never opened: filing anyway would leave them without news, and a retry
/// would file twice.
pub async fn require_private_chat(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    if !ctx.inbound.is_direct
        && !ctx.private_chat_known
        && crate::store::people::dm_target(ctx.tx, ctx.me.id).await?.is_none()
    {
        return Err(UserError::new("common.open_private_chat").into());
    }
    Ok(())
}

/// Checks every `key=value`; leftover plain words become the description.
fn collect_fields(ctx: &Ctx<'_>, form: &Form, args: &[Arg]) -> Result<BTreeMap<String, String>, UserError> {
    let tz = ctx.scripts.settings.timezone;
    let mut values = BTreeMap::new();
    let mut words = Vec::new();
    for arg in args {
        match arg {
            Arg::Word(w) => words.push(w.as_str()),
            Arg::Pair(key, value) => {
                let Some(field) = form.field(key) else {
                    let keys: Vec<&str> = form.fields.iter().map(|f| f.key.as_str()).collect();
                    return Err(UserError::new("report.unknown_field")
                        .arg("key", key.chars().take(20).collect::<String>())
                        .arg("kind", form.kind.as_str())
                        .arg("keys", keys.join(", ")));
                };
                values.insert(key.clone(), fields::validate(field, value, ctx.now, tz)?);
            }
        }
    }
    if !words.is_empty() {
        let joined = words.join(" ");
        match form.field("description") {
            Some(field) if !values.contains_key("description") => {
                values.insert("description".to_owned(), fields::validate(field, &joined, ctx.now, tz)?);
            }
            _ => return Err(UserError::new("common.bad_args")),
        }
    }
    Ok(values)
}

/// Asks for the next missing field (required, or optional but marked `ask` and not skipped),
/// or files the ticket when none is missing.
pub async fn continue_draft(ctx: &mut Ctx<'_>, draft: ReportDraft) -> Result<()> {
    let form = ctx.scripts.form(draft.kind);
    let missing = form
        .fields
        .iter()
        // Information about a notice is asked in full (what, where, when, a photo, a number to
        // call back), each optional question with a Skip.
        .find(|f| {
            (f.required || f.ask || draft.notice.is_some())
                && !draft.fields.contains_key(&f.key)
                && !draft.skipped.contains(&f.key)
        })
        .map(|f| f.key.clone());
    match missing {
        Some(key) => {
            if !ctx.inbound.is_direct && draft.asking.is_none() {
                let text = ctx.msg("report.continue_in_dm", &[("title", form.title.get(ctx.lang))]);
                ctx.reply(text);
            }
            ask_next(ctx, draft, &key).await
        }
        None => {
            if draft.asking.is_some() {
                dialogues::delete(ctx.tx, ctx.me.id).await?;
            }
            file(ctx, draft).await
        }
    }
}

/// Creates the ticket, tells the group (no personal data), the reporter, and the officers.
async fn file(ctx: &mut Ctx<'_>, draft: ReportDraft) -> Result<()> {
    let kind = draft.kind;
    let mut route = tickets::route(ctx, &draft.station, draft.hotel_id).await?;
    // Information about a notice goes to the notice's officer, who works the case.
    let notice_officer = match draft.notice {
        Some(alert) => match crate::store::alerts::get(ctx.tx, alert).await? {
            Some(a) => ctx.person(a.officer_id).await?,
            None => None,
        },
        None => None,
    };
    if let Some(officer) = &notice_officer {
        route.assignee = Some(officer.id);
        route.notify = vec![officer.clone()];
    }
    let ticket = crate::store::tickets::NewTicket {
        station_id: &draft.station,
        kind,
        hotel_id: draft.hotel_id,
        reporter_id: ctx.me.id,
        assignee_id: route.assignee,
        fields: &draft.fields,
        origin_group_id: draft.origin_group,
    };
    let id = crate::store::tickets::insert(ctx.tx, &ticket, &ctx.scripts.form(kind).sla, ctx.now).await?;
    ctx.log_ticket(id, "created", None).await?;
    let n = id.to_string();
    let form = ctx.scripts.form(kind);
    if let Some(group_id) = draft.origin_group {
        tickets::tell_group(ctx, group_id, "report.received_group", id, kind).await?;
    }
    let summary = details(ctx.scripts, form, &draft.fields, ctx.lang, false);
    let text = ctx.msg(
        "report.received_reporter",
        &[("n", &n), ("title", form.title.get(ctx.lang)), ("details", &summary)],
    );
    ctx.to_me(text, Vec::new());
    let hotel = route.hotel_name.clone();
    let photo = form
        .fields
        .iter()
        .find(|f| f.field_type == crate::scripts::FieldType::Photo)
        .and_then(|f| draft.fields.get(&f.key))
        .cloned();
    for officer in &route.notify {
        let lang = ctx.lang_of(officer);
        let unmasked = route.assignee == Some(officer.id);
        let mut body = details(ctx.scripts, form, &draft.fields, lang, unmasked);
        if let Some(notice) = draft.notice {
            let about = ctx
                .scripts
                .templates
                .render(lang, "notice.tip_about", &[("n", &notice.to_string())]);
            body = format!("{about}\n{body}");
        }
        let button = ctx.scripts.templates.render(lang, "report.ack_button", &[]);
        let buttons = vec![vec![crate::domain::Button::new(
            button,
            &crate::domain::Press::Ack { ticket: id },
        )]];
        ctx.tell(
            officer,
            "report.officer_new",
            &[
                ("n", &n),
                ("title", form.title.get(lang)),
                ("hotel", &hotel),
                ("details", &body),
            ],
            buttons,
        )
        .await?;
        // The officer gets the report's photo with it (the details become its caption).
        if let Some(last) = ctx.out.last_mut() {
            last.photo = photo.clone();
        }
    }
    Ok(())
}
