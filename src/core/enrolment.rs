//! Enrolling hotel front desks. An officer's `/invite HOTEL [beat=B]` makes a one-time code
//! (and, on Telegram, a `t.me/<bot>?start=join-CODE` link) that the front desk redeems with
//! `/join CODE` or by opening the link; several desks (shifts) may join one hotel. `/liaisons`
//! lists the station's desks and open codes; `/revoke HANDLE|CODE` takes a desk's hotel away
//! (they can no longer file for it or see its tickets) or withdraws an unused code.

use rand::Rng;

use super::args::{Arg, arguments};
use super::{Ctx, Dispatched, UserError};
use crate::store::invites::{self, Unusable};
use crate::store::{counters, people, stations};

const HOUR_MS: i64 = 3_600_000;

/// Letters and digits that cannot be misread for one another (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;
/// The Telegram `/start` payload of an enrolment link is `join-CODE`.
pub const START_PREFIX: &str = "join-";
const MAX_HOTEL_NAME: usize = 80;

fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// A code as typed: case and surrounding punctuation forgiven, `join-` (from a link) dropped.
pub fn normalise_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let raw = raw
        .get(..START_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(START_PREFIX))
        .map_or(raw, |_| &raw[START_PREFIX.len()..]);
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

fn local_time(ctx: &Ctx<'_>, ms: i64) -> String {
    super::fields::local(ms, ctx.scripts.settings.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `/invite HOTEL [beat=B]`: a code for the hotel's front desk, sent to the officer privately.
pub async fn invite(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let mut words = Vec::new();
    let mut beat = None;
    for arg in arguments(rest).map_err(UserError::from)? {
        match arg {
            Arg::Word(w) => words.push(w),
            Arg::Pair(k, v) if k == "beat" => beat = Some(v),
            Arg::Pair(..) => return Err(UserError::new("invite.usage").into()),
        }
    }
    let name = words.join(" ");
    if name.is_empty() || name.chars().count() > MAX_HOTEL_NAME {
        return Err(UserError::new("invite.usage").into());
    }
    let existing = stations::find_hotel(ctx.tx, &station, &name).await?;
    let (hotel_id, hotel_name, created) = match existing {
        Some(h) if beat.is_none() => (h.id, h.name, false),
        Some(h) => {
            let id = stations::ensure_hotel(ctx.tx, &station, &h.name, beat.as_deref()).await?;
            (id, h.name, false)
        }
        None => {
            let beat = beat.or_else(|| ctx.me.beat.clone());
            let id = stations::ensure_hotel(ctx.tx, &station, &name, beat.as_deref()).await?;
            (id, name, true)
        }
    };
    let code = new_code();
    let expires_at = ctx.now + ctx.scripts.settings.invite_hours * 3_600_000;
    invites::create(ctx.tx, &code, &station, hotel_id, ctx.me.id, ctx.now, expires_at).await?;
    let until = local_time(ctx, expires_at);
    let mut lines = Vec::new();
    if created {
        lines.push(ctx.msg("invite.new_hotel", &[("hotel", &hotel_name)]));
    }
    lines.push(ctx.msg(
        "invite.created",
        &[("hotel", &hotel_name), ("code", &code), ("until", &until)],
    ));
    if let Some(base) = ctx.start_link.clone() {
        let link = format!("{base}{START_PREFIX}{code}");
        lines.push(ctx.msg("invite.link", &[("link", &link)]));
    }
    ctx.to_me(lines.join("\n"), Vec::new());
    if !ctx.inbound.is_direct {
        let text = ctx.msg("invite.sent_privately", &[]);
        ctx.reply(text);
    }
    Ok(())
}

/// `/join CODE` (or `/start join-CODE` from a link): the sender becomes a front desk of the
/// code's hotel. The code is used up; its officer is told.
pub async fn join(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let first = rest.split_whitespace().next().unwrap_or("");
    let Some(code) = normalise_code(first) else {
        return Err(UserError::new("join.usage").into());
    };
    if ctx.me.role.is_staff() {
        return Err(UserError::new("join.staff").into());
    }
    // Wrong codes are counted per person and clock hour; past the limit even a right code is
    // refused until the hour is over, so codes cannot be guessed.
    let wrong_key = format!("join-wrong:{}:{}", ctx.me.id, ctx.now / HOUR_MS);
    let limit = ctx.scripts.settings.wrong_join_codes;
    if counters::times_advanced(ctx.tx, &wrong_key).await? >= limit {
        return Err(UserError::new("join.locked").into());
    }
    let invite = match invites::redeem(ctx.tx, &code, ctx.me.id, ctx.now).await? {
        Ok(invite) => invite,
        Err(why) => {
            let wrong = counters::next_counter(ctx.tx, &wrong_key).await? + 1;
            let key = if wrong >= limit {
                tracing::warn!(
                    person = ctx.me.id,
                    wrong,
                    "wrong enrolment codes: locked out until the hour is over"
                );
                "join.locked"
            } else {
                match why {
                    Unusable::Unknown => "join.unknown",
                    Unusable::Used => "join.used",
                    Unusable::Expired => "join.expired",
                    Unusable::Revoked => "join.revoked",
                }
            };
            // Answered, not refused: a refusal would undo the count of this wrong code.
            let text = ctx.msg(key, &[]);
            ctx.reply(text);
            return Ok(());
        }
    };
    if ctx.me.role == crate::domain::Role::Liaison && ctx.me.hotel_id == Some(invite.hotel_id) {
        // Rolled back with the refusal: the code stays good for a colleague.
        return Err(UserError::new("join.already")
            .arg("hotel", invite.hotel_name.clone())
            .into());
    }
    invites::enrol(ctx.tx, ctx.me.id, &invite.station_id, invite.hotel_id).await?;
    stations::touch_hotel(ctx.tx, invite.hotel_id, ctx.now).await?;
    let me = people::by_id(ctx.tx, ctx.me.id).await?;
    if let Some(me) = me {
        ctx.me = me;
    }
    ctx.lang = ctx.lang_of(&ctx.me.clone());
    let station = stations::get(ctx.tx, &invite.station_id)
        .await?
        .map(|s| s.name)
        .unwrap_or_else(|| invite.station_id.clone());
    let text = ctx.msg("join.done", &[("hotel", &invite.hotel_name), ("station", &station)]);
    ctx.to_me(text, Vec::new());
    if let Some(officer) = ctx.person(invite.created_by).await? {
        let handle = ctx.me.handle.clone();
        ctx.tell(
            &officer,
            "join.officer_told",
            &[("who", &handle), ("hotel", &invite.hotel_name), ("code", &code)],
            Vec::new(),
        )
        .await?;
    }
    Ok(())
}

/// `/liaisons`: the station's front desks by hotel, and the codes not used yet.
pub async fn list(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let desks = invites::liaisons(ctx.tx, &station).await?;
    let pending = invites::pending(ctx.tx, &station, ctx.now).await?;
    let mut lines = vec![ctx.msg("liaisons.header", &[("count", &desks.len().to_string())])];
    for desk in &desks {
        let seen = if desk.last_seen_at > 0 {
            local_time(ctx, desk.last_seen_at)
        } else {
            "—".to_owned()
        };
        lines.push(ctx.msg(
            "liaisons.line",
            &[("hotel", &desk.hotel_name), ("who", &desk.handle), ("seen", &seen)],
        ));
    }
    if !pending.is_empty() {
        lines.push(ctx.msg("liaisons.pending_header", &[]));
        for invite in &pending {
            let until = local_time(ctx, invite.expires_at);
            lines.push(ctx.msg(
                "liaisons.pending_line",
                &[("hotel", &invite.hotel_name), ("code", &invite.code), ("until", &until)],
            ));
        }
    }
    lines.push(ctx.msg("liaisons.footer", &[]));
    // Codes are secrets: the list goes to the officer's private chat.
    ctx.to_me(lines.join("\n"), Vec::new());
    Ok(())
}

/// `/revoke HANDLE|CODE`: a front desk of this station loses their hotel, or a code is
/// withdrawn.
pub async fn revoke(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let target = rest.trim();
    if target.is_empty() {
        return Err(UserError::new("revoke.usage").into());
    }
    if let Some(person) = people::by_handle(ctx.tx, target).await?
        && person.role == crate::domain::Role::Liaison
        && person.station_id.as_deref() == Some(station.as_str())
    {
        let hotel = stations::hotel_name(ctx.tx, person.hotel_id).await?;
        invites::unenrol(ctx.tx, person.id).await?;
        crate::store::dialogues::delete(ctx.tx, person.id).await?;
        let text = ctx.msg("revoke.done", &[("who", &person.handle), ("hotel", &hotel)]);
        ctx.reply(text);
        ctx.tell(&person, "revoke.told", &[("hotel", &hotel)], Vec::new())
            .await?;
        return Ok(());
    }
    if let Some(code) = normalise_code(target)
        && invites::revoke(ctx.tx, &station, &code, ctx.now).await?
    {
        let text = ctx.msg("revoke.code_done", &[("code", &code)]);
        ctx.reply(text);
        return Ok(());
    }
    Err(UserError::new("revoke.unknown")
        .arg("who", target.chars().take(40).collect::<String>())
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_forgivingly() {
        assert_eq!(normalise_code("k7qm2xpa").as_deref(), Some("K7QM2XPA"));
        assert_eq!(normalise_code("join-K7QM2XPA").as_deref(), Some("K7QM2XPA"));
        assert_eq!(normalise_code("K7QM-2XPA").as_deref(), Some("K7QM2XPA"));
        assert_eq!(normalise_code("K7QM2XP"), None);
        assert_eq!(normalise_code("K7QM2XP0"), None, "0 is not in the alphabet");
        assert_eq!(normalise_code("加入K7QM2XP"), None);
        assert_eq!(normalise_code(""), None);
    }

    #[test]
    fn new_codes_are_valid_codes() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(normalise_code(&code), Some(code));
        }
    }
}
