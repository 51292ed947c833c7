//! `/help`: only what the asker's role may do, in their language.

use super::Ctx;
use super::command::{Audience, COMMANDS, CommandName};
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
    for (name, english, aliases, audience) in COMMANDS {
        if *name == CommandName::Start || (*audience == Audience::Staff && !role.is_staff()) {
            continue;
        }
        let kinds: Vec<&str> = ctx
            .scripts
            .forms
            .iter()
            .filter(|f| f.allows(role))
            .map(|f| f.kind.as_str())
            .collect();
        if *name == CommandName::Report && kinds.is_empty() {
            continue;
        }
        let key = format!("help.{english}");
        let text = ctx
            .scripts
            .templates
            .render(ctx.lang, &key, &[("kinds", &kinds.join("|"))]);
        let alias = aliases.first().map(|a| format!(" ({a})")).unwrap_or_default();
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
