//! Working tickets: routing a new ticket to the right officers, `/tickets`, `/ack`, `/note`,
//! `/resolve`, `/close`, `/assign`, `/status`. The reporter is told of every step in their
//! private chat; a ticket of another station does not exist for an officer.

use anyhow::Result;

use super::access::{entitled, staff_ticket};
use super::args::{Arg, arguments};
use super::fields::details;
use super::{Ctx, Dispatched, Outbound, Recipient, UserError};
use crate::domain::{Button, ReportKind, TicketNo, TicketStatus};
use crate::store::people::{self, Person};
use crate::store::tickets::{self, Ticket};
use crate::store::{groups, stations};

/// Who hears of a new ticket, who owns it, and the hotel's name for the officers.
pub struct Route {
    pub notify: Vec<Person>,
    pub assignee: Option<i64>,
    pub hotel_name: String,
}

/// Hotel tickets go to the officers of the hotel's beat; with none there, or for residents'
/// tickets, to the station's duty officers; with none on duty, to every officer of the station.
/// A ticket is assigned when exactly one officer is responsible.
pub async fn route(ctx: &mut Ctx<'_>, station: &str, hotel_id: Option<i64>) -> Result<Route> {
    let mut notify = Vec::new();
    let mut hotel_name = String::new();
    if let Some(hotel_id) = hotel_id
        && let Some((name, on_beat)) = people::hotel_beat_staff(ctx.tx, hotel_id).await?
    {
        notify = on_beat;
        hotel_name = name;
    }
    let notify = people::or_station_staff(ctx.tx, station, notify).await?;
    let assignee = if notify.len() == 1 { Some(notify[0].id) } else { None };
    Ok(Route {
        notify,
        assignee,
        hotel_name,
    })
}

/// A template about ticket `id` to a linked group, in its station's language (never any field).
pub async fn tell_group(ctx: &mut Ctx<'_>, group_id: i64, key: &str, id: i64, kind: ReportKind) -> Result<()> {
    let group = match ctx.group.clone().filter(|g| g.id == group_id) {
        Some(g) => Some(g),
        None => groups::by_id(ctx.tx, group_id).await?,
    };
    let Some(group) = group else {
        return Ok(());
    };
    let title = ctx.scripts.form(kind).title.get(group.lang).to_owned();
    let text = ctx
        .scripts
        .templates
        .render(group.lang, key, &[("n", &id.to_string()), ("title", &title)]);
    ctx.send(Outbound::new(
        Recipient::Chat {
            platform: group.platform,
            chat_id: group.chat_id,
        },
        text,
    ));
    Ok(())
}

/// The reporter, if they may still hear of the ticket.
pub(super) async fn reporter_of(ctx: &mut Ctx<'_>, t: &Ticket) -> Result<Option<Person>> {
    Ok(ctx.person(t.reporter_id).await?.filter(|r| entitled(r, t)))
}

/// A step of the ticket, told to its reporter if they may still hear of it.
async fn tell_reporter(ctx: &mut Ctx<'_>, t: &Ticket, key: &str, args: &[(&str, &str)]) -> Result<()> {
    if let Some(reporter) = reporter_of(ctx, t).await? {
        ctx.tell(&reporter, key, args, Vec::new()).await?;
    }
    Ok(())
}

pub(super) fn status_label(ctx: &Ctx<'_>, status: TicketStatus, lang: crate::domain::Lang) -> String {
    let key = match status {
        TicketStatus::Open => "status.open",
        TicketStatus::Acknowledged => "status.acknowledged",
        TicketStatus::Resolved => "status.resolved",
        TicketStatus::Closed => "status.closed",
    };
    ctx.scripts.templates.render(lang, key, &[])
}

/// `/tickets`: the officer's open tickets and the station's unassigned ones.
pub async fn list(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let open = tickets::open_for(ctx.tx, &station, ctx.me.id).await?;
    if open.is_empty() {
        let text = ctx.msg("ticket.list_empty", &[]);
        ctx.to_me(text, Vec::new());
        return Ok(());
    }
    let mut lines = vec![ctx.msg("ticket.list_header", &[("count", &open.len().to_string())])];
    for t in &open {
        let hotel = stations::hotel_name(ctx.tx, t.hotel_id).await?;
        let age_min = ((ctx.now - t.created_at) / 60_000).to_string();
        let status = status_label(ctx, t.status, ctx.lang);
        let title = ctx.scripts.form(t.kind).title.get(ctx.lang).to_owned();
        let due = deadline(ctx, t);
        lines.push(ctx.msg(
            "ticket.list_line",
            &[
                ("n", &t.id.to_string()),
                ("title", &title),
                ("hotel", &hotel),
                ("status", &status),
                ("minutes", &age_min),
                ("due", &due),
            ],
        ));
    }
    ctx.to_me(lines.join("\n"), Vec::new());
    Ok(())
}

/// The next deadline of an unfinished ticket, as a line's ending: "acknowledge by 22:15", or
/// "⏰ overdue since …" once it has passed.
fn deadline(ctx: &Ctx<'_>, t: &Ticket) -> String {
    let (due, step) = match t.status {
        TicketStatus::Open => (t.ack_due_at, "ack"),
        _ => (t.resolve_due_at, "resolve"),
    };
    let Some(due) = due else {
        return String::new();
    };
    let time = super::fields::clock_time(due, ctx.now, ctx.scripts.settings.timezone);
    let key = match (step, due <= ctx.now) {
        ("ack", false) => "ticket.due_ack",
        ("ack", true) => "ticket.overdue_ack",
        (_, false) => "ticket.due_resolve",
        (_, true) => "ticket.overdue_resolve",
    };
    ctx.msg(key, &[("time", &time)])
}

/// `/ack N`: the officer takes the ticket; the reporter is told.
pub async fn ack(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let raw = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| UserError::new("ticket.usage_ack"))?;
    let t = staff_ticket(ctx, raw).await?;
    match t.status {
        TicketStatus::Acknowledged => {
            return Err(UserError::new("ticket.already_acked").arg("n", t.id.to_string()).into());
        }
        s if s.is_finished() => {
            return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
        }
        _ => {}
    }
    if !tickets::acknowledge(ctx.tx, t.id, ctx.me.id, ctx.now).await? {
        return Err(UserError::new("ticket.already_acked").arg("n", t.id.to_string()).into());
    }
    ctx.log_ticket(t.id, "acknowledged", None).await?;
    let n = t.id.to_string();
    let text = ctx.msg("ticket.acked", &[("n", &n)]);
    ctx.to_me(text, Vec::new());
    if t.assignee_id.is_none() {
        // Taking an unassigned ticket makes it yours: here are the details in full.
        let form = ctx.scripts.form(t.kind);
        let body = details(ctx.scripts, form, &t.fields, ctx.lang, true);
        let me = ctx.me.clone();
        let by = me.handle.clone();
        ctx.tell(
            &me,
            "ticket.assigned_to_you",
            &[
                ("n", &n),
                ("by", &by),
                ("title", form.title.get(ctx.lang)),
                ("details", &body),
            ],
            Vec::new(),
        )
        .await?;
    }
    let officer = ctx.me.handle.clone();
    tell_reporter(ctx, &t, "ticket.acked_reporter", &[("n", &n), ("officer", &officer)]).await?;
    Ok(())
}

/// Splits `N TEXT`; `None` when either is missing.
fn number_and_text(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim();
    let (n, text) = rest.split_once(char::is_whitespace)?;
    let text = text.trim();
    (!text.is_empty()).then_some((n, text))
}

/// `/note N TEXT`: a note for the reporter, kept in the ticket's history.
pub async fn note(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let (raw, text) = number_and_text(rest).ok_or_else(|| UserError::new("ticket.usage_note"))?;
    let t = staff_ticket(ctx, raw).await?;
    if t.status.is_finished() {
        return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
    }
    ctx.log_ticket(t.id, "note", Some(text)).await?;
    let n = t.id.to_string();
    let reply = ctx.msg("ticket.note_added", &[("n", &n)]);
    ctx.to_me(reply, Vec::new());
    tell_reporter(ctx, &t, "ticket.note_reporter", &[("n", &n), ("text", text)]).await?;
    Ok(())
}

/// `/resolve N TEXT`: closes the case; the reporter gets the outcome and a 1–5 rating.
pub async fn resolve(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let (raw, text) = number_and_text(rest).ok_or_else(|| UserError::new("ticket.usage_resolve"))?;
    let t = staff_ticket(ctx, raw).await?;
    if t.status.is_finished() {
        return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
    }
    if !tickets::resolve(ctx.tx, t.id, ctx.me.id, text, ctx.now).await? {
        return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
    }
    ctx.log_ticket(t.id, "resolved", Some(text)).await?;
    let n = t.id.to_string();
    let reply = ctx.msg("ticket.resolved", &[("n", &n)]);
    ctx.to_me(reply, Vec::new());
    if let Some(reporter) = reporter_of(ctx, &t).await? {
        let lang = ctx.lang_of(&reporter);
        let buttons = vec![
            (1..=5)
                .map(|k| {
                    Button::new(
                        ctx.scripts
                            .templates
                            .render(lang, "rating.button", &[("k", &k.to_string())]),
                        &crate::domain::Press::Rate { ticket: t.id, stars: k },
                    )
                })
                .collect(),
        ];
        ctx.tell(
            &reporter,
            "ticket.resolved_reporter",
            &[("n", &n), ("text", text)],
            buttons,
        )
        .await?;
    }
    Ok(())
}

/// `/close N REASON`: finishes a ticket without action (a duplicate, a false alarm, the guest
/// left); the reporter is told why and is not asked for a rating.
pub async fn close(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let (raw, reason) = number_and_text(rest).ok_or_else(|| UserError::new("ticket.usage_close"))?;
    let t = staff_ticket(ctx, raw).await?;
    if t.status.is_finished() || !tickets::close(ctx.tx, t.id, ctx.me.id, reason, ctx.now).await? {
        return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
    }
    ctx.log_ticket(t.id, "closed", Some(reason)).await?;
    let n = t.id.to_string();
    let reply = ctx.msg("ticket.closed", &[("n", &n)]);
    ctx.to_me(reply, Vec::new());
    tell_reporter(ctx, &t, "ticket.closed_reporter", &[("n", &n), ("reason", reason)]).await?;
    Ok(())
}

/// `/assign N OFFICER`: moves a ticket to another officer of the station; both are told.
pub async fn assign(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let args = arguments(rest).map_err(UserError::from)?;
    let (Some(Arg::Word(raw)), Some(Arg::Word(handle)), None) = (args.first(), args.get(1), args.get(2)) else {
        return Err(UserError::new("ticket.usage_assign").into());
    };
    let t = staff_ticket(ctx, raw).await?;
    if t.status.is_finished() {
        return Err(UserError::new("ticket.finished").arg("n", t.id.to_string()).into());
    }
    let handle = handle.trim_start_matches('@');
    let target = people::by_handle(ctx.tx, handle)
        .await?
        .filter(|p| p.role.is_staff() && p.station_id == ctx.me.station_id);
    let Some(target) = target else {
        return Err(UserError::new("ticket.assign_unknown")
            .arg("officer", handle.chars().take(32).collect::<String>())
            .into());
    };
    tickets::assign(ctx.tx, t.id, target.id).await?;
    ctx.log_ticket(t.id, "assigned", Some(&target.handle)).await?;
    let n = t.id.to_string();
    let reply = ctx.msg("ticket.assigned", &[("n", &n), ("officer", &target.handle)]);
    ctx.to_me(reply, Vec::new());
    let form = ctx.scripts.form(t.kind);
    let lang = ctx.lang_of(&target);
    let body = details(ctx.scripts, form, &t.fields, lang, true);
    let by = ctx.me.handle.clone();
    ctx.tell(
        &target,
        "ticket.assigned_to_you",
        &[
            ("n", &n),
            ("by", &by),
            ("title", form.title.get(lang)),
            ("details", &body),
        ],
        Vec::new(),
    )
    .await?;
    if let Some(previous) = t.assignee_id.filter(|p| *p != target.id && *p != ctx.me.id)
        && let Some(previous) = ctx.person(previous).await?
    {
        ctx.tell(
            &previous,
            "ticket.assigned_away",
            &[("n", &n), ("officer", &target.handle)],
            Vec::new(),
        )
        .await?;
    }
    let officer = target.handle.clone();
    tell_reporter(ctx, &t, "ticket.assigned_reporter", &[("n", &n), ("officer", &officer)]).await?;
    Ok(())
}

/// `/status N`: for the reporter, a liaison of the same hotel, or an officer of the station.
pub async fn status(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let raw = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| UserError::new("common.bad_ticket_no"))?;
    let no = TicketNo::parse(raw).ok_or_else(|| UserError::new("common.bad_ticket_no"))?;
    let ticket = tickets::get(ctx.tx, no.get()).await?;
    let may_see = |t: &Ticket| {
        (t.reporter_id == ctx.me.id && entitled(&ctx.me, t))
            || (ctx.me.role.is_staff() && ctx.me.station_id.as_deref() == Some(t.station_id.as_str()))
            || (t.hotel_id.is_some() && ctx.me.role == crate::domain::Role::Liaison && ctx.me.hotel_id == t.hotel_id)
    };
    let Some(t) = ticket.filter(may_see) else {
        return Err(UserError::new("common.ticket_not_found")
            .arg("n", no.to_string())
            .into());
    };
    let officer = match t.assignee_id {
        Some(id) => ctx.person(id).await?.map(|p| p.handle).unwrap_or_default(),
        None => "—".to_owned(),
    };
    let status = status_label(ctx, t.status, ctx.lang);
    let title = ctx.scripts.form(t.kind).title.get(ctx.lang).to_owned();
    let text = ctx.msg(
        "ticket.status",
        &[
            ("n", &t.id.to_string()),
            ("title", &title),
            ("status", &status),
            ("officer", &officer),
        ],
    );
    ctx.to_me(text, Vec::new());
    Ok(())
}
