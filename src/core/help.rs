//! `/help`: only what the asker's role may do, in their language.

use super::Ctx;
use super::commands::{Audience, COMMANDS};
use crate::domain::Role;

pub fn help(ctx: &mut Ctx<'_>) -> Result<(), super::Dispatched> {
    let role = ctx.me.role;
    let role_key = match role {
        Role::Resident => "help.role_resident",
        Role::Liaison => "help.role_liaison",
        Role::Officer => "help.role_officer",
        Role::StationAdmin => "help.role_admin",
    };
    let role_name = ctx.msg(role_key, &[]);
    let mut lines = vec![ctx.msg("help.header", &[("role", &role_name)])];
    for command in COMMANDS {
        if !command.listed || !command.audience.allows(role) {
            continue;
        }
        let kinds: Vec<&str> = ctx
            .scripts
            .forms
            .iter()
            .filter(|f| f.allows(role))
            .map(|f| f.kind.as_str())
            .collect();
        if command.name == "report" && kinds.is_empty() {
            continue;
        }
        let key = command.help_key();
        let text = ctx
            .scripts
            .templates
            .render(ctx.lang, &key, &[("kinds", &kinds.join("|"))]);
        let alias = command.aliases.first().map(|a| format!(" ({a})")).unwrap_or_default();
        lines.push(format!("• {text}{alias}"));
    }
    lines.push(ctx.msg("help.footer", &[]));
    ctx.reply(lines.join("\n"));
    Ok(())
}

/// In a group not linked to any station.
pub fn unlinked(ctx: &mut Ctx<'_>) {
    let text = ctx.msg("common.unlinked_group", &[]);
    ctx.reply(text);
}

/// Where a command menu is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuScope {
    /// Private chats of residents and front desks.
    Private,
    /// Groups.
    Group,
    /// Officers' private chats: everything.
    Officer,
}

/// The command menu of a scope, as `(name, short description)` in `lang`, for platforms that
/// show one (Telegram's `setMyCommands`). Descriptions come from the help templates.
pub fn menu(scripts: &crate::scripts::Scripts, lang: crate::domain::Lang, scope: MenuScope) -> Vec<(String, String)> {
    COMMANDS
        .iter()
        .filter(|c| c.listed)
        .filter(|c| match scope {
            MenuScope::Private => c.audience == Audience::Anyone,
            MenuScope::Group => c.in_groups,
            MenuScope::Officer => true,
        })
        .map(|c| {
            let text = scripts.templates.render(lang, &c.help_key(), &[("kinds", "…")]);
            // "/lang zh|en — choose your language" → "choose your language".
            let description = text
                .split_once(" — ")
                .or_else(|| text.split_once(" —"))
                .map(|(_, d)| d)
                .unwrap_or(&text);
            (c.name.to_owned(), description.trim().chars().take(256).collect())
        })
        .collect()
}
