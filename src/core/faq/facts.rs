//! Station facts in FAQ answers: `{station.address}`, `{station.phone}`, `{station.hours}`,
//! `{station.household_hours}`, `{station.name}` filled from the station's record; a line naming
//! a fact that is not set is left out, never shown as a placeholder. `/station` lets a station
//! admin read and set them in chat (`beatbot station set` does it from the command line).

use anyhow::Result;

use super::super::{Ctx, Dispatched, UserError};
use crate::core::args::{Arg, arguments};
use crate::scripts::{STATION_FACTS, placeholders, substitute};
use crate::store::station_faq::{self, Facts};

/// The facts a station admin may set, as `/station KEY=VALUE` names them.
pub const SETTABLE: &[&str] = &["address", "phone", "hours", "household_hours"];

/// `text` with each `{station.KEY}` replaced; lines naming an unset fact dropped.
pub fn fill_facts(text: &str, facts: Option<&Facts>) -> String {
    let set: Vec<(String, &str)> = STATION_FACTS
        .iter()
        .filter_map(|key| Some((format!("station.{key}"), facts?.get(key)?)))
        .collect();
    let args: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    text.lines()
        .filter(|line| {
            placeholders(line)
                .iter()
                .all(|name| args.iter().any(|(k, _)| k == name))
        })
        .map(|line| substitute(line, &args))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// `/station` shows the station's facts; `/station hours="Mon-Fri 8:30-17:30" phone=-` sets
/// them (`-` clears one).
pub async fn station_command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let parsed = arguments(rest).map_err(|_| UserError::new("station.usage"))?;
    let mut changes = Vec::new();
    for arg in parsed {
        match arg {
            Arg::Pair(key, value) if SETTABLE.contains(&key.as_str()) => {
                let value = value.trim().to_owned();
                if value.chars().count() > 200 {
                    return Err(UserError::new("station.too_long").arg("key", key).into());
                }
                changes.push((key, (value != "-" && !value.is_empty()).then_some(value)));
            }
            Arg::Pair(key, _) => {
                return Err(UserError::new("station.unknown_fact")
                    .arg("key", key.chars().take(30).collect::<String>())
                    .arg("keys", SETTABLE.join(", "))
                    .into());
            }
            Arg::Word(_) => return Err(UserError::new("station.usage").into()),
        }
    }
    for (key, value) in &changes {
        set(ctx, &station, key, value.as_deref()).await?;
    }
    let facts = station_faq::facts(ctx.tx, &station).await?.unwrap_or_default();
    let unset = ctx.msg("station.unset", &[]);
    let show = |k: &str| facts.get(k).map(str::to_owned).unwrap_or_else(|| unset.clone());
    let key = if changes.is_empty() {
        "station.facts"
    } else {
        "station.updated"
    };
    let text = ctx.msg(
        key,
        &[
            ("name", &facts.name),
            ("address", &show("address")),
            ("phone", &show("phone")),
            ("hours", &show("hours")),
            ("household_hours", &show("household_hours")),
        ],
    );
    ctx.reply(text);
    Ok(())
}

async fn set(ctx: &mut Ctx<'_>, station: &str, key: &str, value: Option<&str>) -> Result<()> {
    station_faq::set_fact(ctx.tx, station, key, value).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_facts_are_filled_and_unset_ones_leave_their_line_out() {
        let facts = Facts {
            name: "Xinhua Road Station".into(),
            hours: Some("Mon-Fri 8:30-17:30".into()),
            ..Facts::default()
        };
        let text = "Come to {station.name}.\nHours: {station.hours}.\nPhone: {station.phone}.\nBring your ID.";
        assert_eq!(
            fill_facts(text, Some(&facts)),
            "Come to Xinhua Road Station.\nHours: Mon-Fri 8:30-17:30.\nBring your ID."
        );
        assert_eq!(fill_facts(text, None), "Bring your ID.");
        assert!(!fill_facts(text, Some(&facts)).contains('{'));
    }
}
