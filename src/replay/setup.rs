//! The world-building lines of a transcript (`@station`, `@officer`, `@liaison`, `@resident`,
//! `@group`), played through the same admin service calls as the command line, for whichever
//! platform the transcript runs on.

use anyhow::{Context, Result};

use super::Step;
use crate::app::App;
use crate::domain::{GroupKind, Lang, Platform, Role};

/// How a platform names the transcript's people and groups.
pub trait Naming {
    /// A person's identity: platform, external id, private chat.
    fn identity(&mut self, person: &str) -> (Platform, String, Option<String>);
    /// A group's platform and chat id.
    fn group_chat(&mut self, group: &str) -> (Platform, String);
}

/// Plays `step` if it builds the world; `Ok(false)` for any other step.
pub async fn set_up(app: &App, step: &Step, naming: &mut impl Naming) -> Result<bool> {
    let opt = |opts: &[(String, String)], k: &str| opts.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let lang = |opts: &[(String, String)]| opt(opts, "lang").and_then(|l| Lang::parse(&l));
    match step {
        Step::Station { id, name, opts } => {
            app.add_station(id, name, lang(opts)).await?;
            if let Some(days) = opt(opts, "retention") {
                let days = days
                    .trim_end_matches('d')
                    .parse()
                    .with_context(|| format!("retention={days}: write a number of days"))?;
                app.set_retention(id, days).await?;
            }
        }
        Step::Officer {
            name,
            station,
            duty,
            admin,
            opts,
        } => {
            let identity = naming.identity(name);
            let beat = opt(opts, "beat");
            app.add_person(
                name,
                if *admin { Role::StationAdmin } else { Role::Officer },
                Some(station),
                beat.as_deref(),
                None,
                *duty,
                lang(opts),
                &[identity],
            )
            .await?;
        }
        Step::Liaison {
            name,
            station,
            hotel,
            opts,
        } => {
            let identity = naming.identity(name);
            let beat = opt(opts, "beat");
            app.add_person(
                name,
                Role::Liaison,
                Some(station),
                beat.as_deref(),
                Some(hotel),
                false,
                lang(opts),
                &[identity],
            )
            .await?;
        }
        Step::Resident { name, opts } => {
            let identity = naming.identity(name);
            app.add_person(name, Role::Resident, None, None, None, false, lang(opts), &[identity])
                .await?;
        }
        Step::Group {
            id,
            kind,
            station,
            members,
        } => {
            let kind = GroupKind::parse(kind).with_context(|| format!("unknown group kind {kind}"))?;
            let (platform, chat) = naming.group_chat(id);
            app.link_group(platform, &chat, kind, station).await?;
            for member in members {
                let mut tx = app.store.begin().await?;
                let person = crate::store::people::by_handle(&mut tx, member).await?;
                tx.commit().await?;
                if let Some(p) = person {
                    app.adopt_station(p.id, station).await?;
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}
