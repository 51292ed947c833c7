//! The silent-hotel watch: a hotel whose front desks have sent nothing for
//! `silent_hotel_days` (bot.toml) is flagged to its beat officer — a quiet front desk is a
//! risk, not a success. A hotel is flagged once per silence; a word from its desk ends it.

use anyhow::Result;

use crate::app::{App, enqueue};
use crate::core::{Outbound, Recipient, context_language};
use crate::store::{Tx, people, stations};

/// Flags every hotel silent at `now`; returns how many were flagged.
pub async fn silent_hotels(app: &App, tx: &mut Tx, now: i64) -> Result<usize> {
    let days = app.scripts.settings.silent_hotel_days;
    if days <= 0 {
        return Ok(0);
    }
    let mut flagged = 0;
    for (hotel, last) in stations::silent_hotels(tx, now - days * 86_400_000, now).await? {
        if !stations::flag_silence(tx, hotel.id, now).await? {
            continue;
        }
        flagged += 1;
        let on_beat = people::hotel_beat_staff(tx, hotel.id)
            .await?
            .map(|(_, on_beat)| on_beat)
            .unwrap_or_default();
        let to = people::or_station_staff(tx, &hotel.station_id, on_beat).await?;
        let silent_days = ((now - last) / 86_400_000).to_string();
        let out: Vec<Outbound> = to
            .iter()
            .map(|officer| {
                let lang = context_language(&app.scripts, officer);
                let text = app.scripts.templates.render(
                    lang,
                    "watch.silent_hotel",
                    &[("hotel", &hotel.name), ("days", &silent_days)],
                );
                Outbound::new(Recipient::Person(officer.id), text)
            })
            .collect();
        enqueue(tx, &out, &format!("silent:{}:{now}", hotel.id), now).await?;
    }
    Ok(flagged)
}
