//! `/link community|liaison`: an officer attaches the group they write in to their station
//! (or changes its kind). A group linked to another station stays with it.

use super::{Ctx, Dispatched, UserError};
use crate::domain::GroupKind;
use crate::store::{groups, stations};

pub async fn link(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let kind = GroupKind::parse(rest.trim()).filter(|_| !ctx.inbound.is_direct);
    let Some(kind) = kind else {
        return Err(UserError::new("link.usage").into());
    };
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    if let Some(group) = &ctx.group
        && group.station_id != station
    {
        return Err(UserError::new("link.other_station").into());
    }
    let platform = ctx.inbound.platform;
    groups::link(ctx.tx, platform, &ctx.inbound.chat_id, kind, &station, ctx.now).await?;
    let name = stations::get(ctx.tx, &station)
        .await?
        .map(|s| s.name)
        .unwrap_or(station);
    let kind_name = ctx.msg(
        if kind == GroupKind::Community {
            "link.kind_community"
        } else {
            "link.kind_liaison"
        },
        &[],
    );
    let text = ctx.msg("link.done", &[("station", &name), ("kind", &kind_name)]);
    ctx.reply(text);
    Ok(())
}
