//! Deadlines of tickets, run by the scheduler: a missed acknowledgement is escalated to the
//! station's duty officers, one more window later to its station admins; the officer working
//! a ticket is reminded before its resolution deadline, and the breach is reported when it
//! passes. Each step is recorded on the ticket and in its history, and its messages carry a
//! key of their own, so a step is taken once even when ticks repeat or replicas race.

use anyhow::Result;

use crate::app::{App, enqueue};
use crate::core::{Outbound, Recipient, context_language, fields};
use crate::domain::{Button, Escalation, ReportKind, ResolveNotice};
use crate::store::people::{self, Person};
use crate::store::tickets::{self, Ticket};
use crate::store::{Tx, deadlines, stations};

/// The "platform" of the history entries the scheduler writes.
const BY: &str = "scheduler";

/// Runs every deadline step due at `now`; returns how many steps were taken.
pub async fn run(app: &App, tx: &mut Tx, now: i64) -> Result<usize> {
    let mut taken = 0;
    for t in deadlines::unacknowledged(tx, Escalation::Duty, now).await? {
        taken += escalate(app, tx, &t, Escalation::Duty, now).await? as usize;
    }
    for t in deadlines::unacknowledged(tx, Escalation::Admin, now).await? {
        taken += escalate(app, tx, &t, Escalation::Admin, now).await? as usize;
    }
    let remind: Vec<(ReportKind, i64)> = app
        .scripts
        .forms
        .iter()
        .map(|f| (f.kind, f.sla.remind_minutes * 60_000))
        .collect();
    for t in deadlines::resolution_due(tx, &remind, now).await? {
        taken += resolution_notice(app, tx, &t, now).await? as usize;
    }
    Ok(taken)
}

/// The people a ticket's message is about to reach: its assignee, else the officers it was
/// routed to (the hotel's beat, else duty officers, else everyone at the station).
async fn responsible(tx: &mut Tx, t: &Ticket) -> Result<Vec<Person>> {
    if let Some(id) = t.assignee_id
        && let Some(p) = people::by_id(tx, id).await?
    {
        return Ok(vec![p]);
    }
    let on_beat = match t.hotel_id {
        Some(hotel) => people::hotel_beat_staff(tx, hotel).await?.map(|(_, on_beat)| on_beat),
        None => None,
    };
    people::or_station_staff(tx, &t.station_id, on_beat.unwrap_or_default()).await
}

/// Who a missed acknowledgement has been escalated to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Duty,
    Admin,
}

impl Level {
    fn action(self) -> &'static str {
        match self {
            Level::Duty => "escalated_duty",
            Level::Admin => "escalated_admin",
        }
    }
    fn template(self) -> &'static str {
        match self {
            Level::Duty => "sla.escalated_duty",
            Level::Admin => "sla.escalated_admin",
        }
    }
    /// "the duty officer" or "the station admin".
    fn who(self) -> &'static str {
        match self {
            Level::Duty => "sla.who_duty",
            Level::Admin => "sla.who_admin",
        }
    }
}

/// A deadline message to `to` in their language; `extra` arguments after the ticket's number,
/// title and hotel, which every such message has.
fn message(app: &App, to: &Person, key: &str, t: &Ticket, hotel: &str, extra: &[(&str, &str)], ack: bool) -> Outbound {
    let lang = context_language(&app.scripts, to);
    let n = t.id.to_string();
    let mut args = vec![
        ("n", n.as_str()),
        ("title", app.scripts.form(t.kind).title.get(lang)),
        ("hotel", hotel),
    ];
    args.extend_from_slice(extra);
    let text = app.scripts.templates.render(lang, key, &args);
    let mut out = Outbound::new(Recipient::Person(to.id), text);
    if ack {
        let label = app.scripts.templates.render(lang, "report.ack_button", &[]);
        out.buttons = vec![vec![Button::new(label, &crate::domain::Press::Ack { ticket: t.id })]];
    }
    out
}

/// Escalation step 1 (duty officers; straight to admins when there are none) or 2 (admins).
async fn escalate(app: &App, tx: &mut Tx, t: &Ticket, step: Escalation, now: i64) -> Result<bool> {
    let duty = if step == Escalation::Duty {
        people::staff(tx, &t.station_id, None, true).await?
    } else {
        Vec::new()
    };
    let (to, level) = if duty.is_empty() {
        (people::admins(tx, &t.station_id).await?, Level::Admin)
    } else {
        (duty, Level::Duty)
    };
    if !deadlines::escalated(tx, t.id, step).await? {
        return Ok(false);
    }
    // Record the furthest step reached: straight to 2 when nobody is on duty.
    if level == Level::Admin && step == Escalation::Duty {
        deadlines::escalated(tx, t.id, Escalation::Admin).await?;
    }
    if step == Escalation::Duty {
        tickets::log(tx, t.id, None, BY, "missed_ack", None, now).await?;
    }
    let handles: Vec<&str> = to.iter().map(|p| p.handle.as_str()).collect();
    let detail = if handles.is_empty() {
        "-".to_owned()
    } else {
        handles.join(", ")
    };
    tickets::log(tx, t.id, None, BY, level.action(), Some(&detail), now).await?;
    if to.is_empty() {
        tracing::warn!(
            ticket = t.id,
            "overdue acknowledgement: no duty officer or station admin to escalate to"
        );
    }
    let window = t.ack_due_at.unwrap_or(t.created_at) - t.created_at;
    let minutes = (window * step.level() / 60_000).to_string();
    let hotel = stations::hotel_name(tx, t.hotel_id).await?;
    let form = app.scripts.form(t.kind);
    let mut out = Vec::new();
    for person in &to {
        let lang = context_language(&app.scripts, person);
        let details = fields::details(&app.scripts, form, &t.fields, lang, false);
        let extra = [("minutes", minutes.as_str()), ("details", &details)];
        out.push(message(app, person, level.template(), t, &hotel, &extra, true));
    }
    if step == Escalation::Duty {
        // The officer it was routed to hears that it has gone up.
        for person in responsible(tx, t).await? {
            if to.iter().any(|p| p.id == person.id) {
                continue;
            }
            let lang = context_language(&app.scripts, &person);
            let who = app.scripts.templates.render(lang, level.who(), &[]);
            let extra = [("minutes", minutes.as_str()), ("who", &who)];
            out.push(message(app, &person, "sla.overdue_officer", t, &hotel, &extra, true));
        }
    }
    enqueue(tx, &out, &format!("sla:{}:ack{}", t.id, step.level()), now).await?;
    Ok(true)
}

/// The reminder before the resolution deadline, or the breach once it has passed.
async fn resolution_notice(app: &App, tx: &mut Tx, t: &Ticket, now: i64) -> Result<bool> {
    let Some(due) = t.resolve_due_at else {
        return Ok(false);
    };
    let remind_at = due - app.scripts.form(t.kind).sla.remind_minutes * 60_000;
    let (notice, key, cause, action) = if now >= due {
        (
            ResolveNotice::Breached,
            "sla.resolve_breach",
            "breach",
            "missed_resolve",
        )
    } else if now >= remind_at && t.resolve_notice == ResolveNotice::None {
        (ResolveNotice::Reminded, "sla.resolve_reminder", "remind", "reminded")
    } else {
        return Ok(false);
    };
    if !deadlines::resolution_noticed(tx, t.id, notice).await? {
        return Ok(false);
    }
    tickets::log(tx, t.id, None, BY, action, None, now).await?;
    let mut to = responsible(tx, t).await?;
    if notice == ResolveNotice::Breached {
        for duty in people::staff(tx, &t.station_id, None, true).await? {
            if !to.iter().any(|p| p.id == duty.id) {
                to.push(duty);
            }
        }
    }
    let when = fields::clock_time(due, now, app.scripts.settings.timezone);
    let hotel = stations::hotel_name(tx, t.hotel_id).await?;
    let out: Vec<Outbound> = to
        .iter()
        .map(|person| message(app, person, key, t, &hotel, &[("due", &when)], false))
        .collect();
    enqueue(tx, &out, &format!("sla:{}:{cause}", t.id), now).await?;
    Ok(true)
}
