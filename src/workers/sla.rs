//! Deadlines of tickets, run by the scheduler: a missed acknowledgement is escalated to the
//! station's duty officers, one more window later to its station admins; the officer working
//! a ticket is reminded before its resolution deadline, and the breach is reported when it
//! passes. Each step is recorded on the ticket and in its history, and its messages carry a
//! key of their own, so a step is taken once even when ticks repeat or replicas race.

use anyhow::Result;

use crate::app::{App, enqueue};
use crate::core::{Outbound, Recipient, context_language, fields, reports};
use crate::domain::{Button, Lang, ReportKind};
use crate::store::people::{self, Person};
use crate::store::tickets::{self, Ticket};
use crate::store::{Tx, deadlines, stations};

/// The "platform" of the history entries the scheduler writes.
const BY: &str = "scheduler";

/// "the duty officer" or "the station admin", in `person`'s language.
fn who_told(app: &App, person: &Person, level: &str) -> String {
    let lang = context_language(&app.scripts, person);
    let key = if level == "duty" {
        "sla.who_duty"
    } else {
        "sla.who_admin"
    };
    app.scripts.templates.render(lang, key, &[])
}

/// Runs every deadline step due at `now`; returns how many steps were taken.
pub async fn run(app: &App, tx: &mut Tx, now: i64) -> Result<usize> {
    let mut taken = 0;
    for t in deadlines::unacknowledged(tx, 1, now).await? {
        taken += escalate(app, tx, &t, 1, now).await? as usize;
    }
    for t in deadlines::unacknowledged(tx, 2, now).await? {
        taken += escalate(app, tx, &t, 2, now).await? as usize;
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
    if let Some(hotel) = t.hotel_id
        && let Some((_, on_beat)) = people::hotel_beat_staff(tx, hotel).await?
        && !on_beat.is_empty()
    {
        return Ok(on_beat);
    }
    let duty = people::staff(tx, &t.station_id, None, true).await?;
    if !duty.is_empty() {
        return Ok(duty);
    }
    people::staff(tx, &t.station_id, None, false).await
}

/// Template arguments every deadline message shares, in `lang`.
struct About {
    n: String,
    title: String,
    hotel: String,
}

async fn about(app: &App, tx: &mut Tx, t: &Ticket, lang: Lang) -> Result<About> {
    let hotel = match t.hotel_id {
        Some(h) => stations::hotel(tx, h).await?.map(|h| h.name).unwrap_or_default(),
        None => String::new(),
    };
    Ok(About {
        n: t.id.to_string(),
        title: app.scripts.form(t.kind).title.get(lang).to_owned(),
        hotel,
    })
}

fn message(app: &App, to: &Person, key: &str, args: &[(&str, &str)], ack_button: Option<i64>) -> Outbound {
    let lang = context_language(&app.scripts, to);
    let text = app.scripts.templates.render(lang, key, args);
    let mut out = Outbound::new(Recipient::Person(to.id), text);
    if let Some(id) = ack_button {
        let label = app.scripts.templates.render(lang, "report.ack_button", &[]);
        out.buttons = vec![vec![Button::new(label, format!("ack:{id}"))]];
    }
    out
}

/// Escalation step 1 (duty officers; straight to admins when there are none) or 2 (admins).
async fn escalate(app: &App, tx: &mut Tx, t: &Ticket, step: i64, now: i64) -> Result<bool> {
    let duty = people::staff(tx, &t.station_id, None, true).await?;
    let admins = people::admins(tx, &t.station_id).await?;
    let (to, level, reached) = if step == 1 && !duty.is_empty() {
        (duty, "duty", 1)
    } else {
        (admins, "admin", 2)
    };
    // Record the furthest step reached (1 then 2, or 2 at once when nobody is on duty).
    if !deadlines::escalated(tx, t.id, step).await? {
        return Ok(false);
    }
    if reached == 2 && step == 1 {
        deadlines::escalated(tx, t.id, 2).await?;
    }
    let window = t.ack_due_at.unwrap_or(t.created_at) - t.created_at;
    let minutes = (window * step / 60_000).to_string();
    let handles: Vec<&str> = to.iter().map(|p| p.handle.as_str()).collect();
    if step == 1 {
        tickets::log(tx, t.id, None, BY, "missed_ack", None, now).await?;
    }
    let action = if level == "duty" {
        "escalated_duty"
    } else {
        "escalated_admin"
    };
    let detail = if handles.is_empty() {
        "-".to_owned()
    } else {
        handles.join(", ")
    };
    tickets::log(tx, t.id, None, BY, action, Some(&detail), now).await?;
    if to.is_empty() {
        tracing::warn!(
            ticket = t.id,
            "overdue acknowledgement: no duty officer or station admin to escalate to"
        );
    }
    let form = app.scripts.form(t.kind);
    let mut out = Vec::new();
    for person in &to {
        let lang = context_language(&app.scripts, person);
        let a = about(app, tx, t, lang).await?;
        let details = reports::details(&app.scripts, form, &t.fields, lang, false);
        let key = if level == "duty" {
            "sla.escalated_duty"
        } else {
            "sla.escalated_admin"
        };
        out.push(message(
            app,
            person,
            key,
            &[
                ("n", &a.n),
                ("title", &a.title),
                ("hotel", &a.hotel),
                ("minutes", &minutes),
                ("details", &details),
            ],
            Some(t.id),
        ));
    }
    if step == 1 {
        // The officer it was routed to hears that it has gone up.
        for person in responsible(tx, t).await? {
            if to.iter().any(|p| p.id == person.id) {
                continue;
            }
            let lang = context_language(&app.scripts, &person);
            let a = about(app, tx, t, lang).await?;
            out.push(message(
                app,
                &person,
                "sla.overdue_officer",
                &[
                    ("n", &a.n),
                    ("title", &a.title),
                    ("minutes", &minutes),
                    ("who", &who_told(app, &person, level)),
                ],
                Some(t.id),
            ));
        }
    }
    enqueue(tx, &out, &format!("sla:{}:ack{step}", t.id), now).await?;
    Ok(true)
}

/// The reminder before the resolution deadline, or the breach once it has passed.
async fn resolution_notice(app: &App, tx: &mut Tx, t: &Ticket, now: i64) -> Result<bool> {
    let Some(due) = t.resolve_due_at else {
        return Ok(false);
    };
    let remind_at = due - app.scripts.form(t.kind).sla.remind_minutes * 60_000;
    let (notice, key, cause) = if now >= due {
        (2, "sla.resolve_breach", "breach")
    } else if now >= remind_at && t.resolve_notice == 0 {
        (1, "sla.resolve_reminder", "remind")
    } else {
        return Ok(false);
    };
    if !deadlines::resolution_noticed(tx, t.id, notice).await? {
        return Ok(false);
    }
    let mut to = responsible(tx, t).await?;
    if notice == 2 {
        tickets::log(tx, t.id, None, BY, "missed_resolve", None, now).await?;
        for duty in people::staff(tx, &t.station_id, None, true).await? {
            if !to.iter().any(|p| p.id == duty.id) {
                to.push(duty);
            }
        }
    } else {
        tickets::log(tx, t.id, None, BY, "reminded", None, now).await?;
    }
    let when = fields::clock_time(due, now, app.scripts.settings.timezone);
    let mut out = Vec::new();
    for person in &to {
        let lang = context_language(&app.scripts, person);
        let a = about(app, tx, t, lang).await?;
        out.push(message(
            app,
            person,
            key,
            &[("n", &a.n), ("title", &a.title), ("hotel", &a.hotel), ("due", &when)],
            None,
        ));
    }
    enqueue(tx, &out, &format!("sla:{}:{cause}", t.id), now).await?;
    Ok(true)
}
