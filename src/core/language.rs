//! `/lang zh|en`: the language the bot speaks to this person.

use super::{Ctx, Dispatched, UserError};
use crate::domain::Lang;
use crate::store::people;

/// `/lang zh|en`.
pub async fn lang(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(lang) = Lang::parse(rest) else {
        return Err(UserError::new("lang.usage").into());
    };
    people::set_lang(ctx.tx, ctx.me.id, lang).await?;
    ctx.lang = lang;
    let text = ctx.msg("lang.set", &[]);
    ctx.reply(text);
    Ok(())
}
