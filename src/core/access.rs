//! Who may see and work a ticket: the station's officers work it; a hotel's ticket belongs to
//! the hotel's current front desks. Shared by the ticket, rating and review commands.

use super::{Ctx, Dispatched, UserError};
use crate::domain::TicketNo;
use crate::store::people::Person;
use crate::store::tickets::{self, Ticket};

/// The ticket `raw` names, if the sender (an officer) may work it.
pub async fn staff_ticket(ctx: &mut Ctx<'_>, raw: &str) -> Result<Ticket, Dispatched> {
    let no = TicketNo::parse(raw).ok_or_else(|| UserError::new("common.bad_ticket_no"))?;
    match tickets::get(ctx.tx, no.get()).await? {
        Some(t) if ctx.me.role.is_staff() && ctx.me.station_id.as_deref() == Some(t.station_id.as_str()) => Ok(t),
        _ => Err(UserError::new("common.ticket_not_found")
            .arg("n", no.to_string())
            .into()),
    }
}

/// A hotel's ticket belongs to the hotel's current front desks: a reporter whose enrolment
/// was revoked hears nothing more of it and cannot see it.
pub fn entitled(person: &Person, t: &Ticket) -> bool {
    match t.hotel_id {
        Some(hotel) => person.role == crate::domain::Role::Liaison && person.hotel_id == Some(hotel),
        None => true,
    }
}
