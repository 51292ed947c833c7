//! The commands people type, each declared once in [`COMMANDS`]: its English name, Chinese
//! aliases, who may use it, its help text and its handler. Parsing (`/name@bot args` or a
//! Chinese keyword typed as a plain word: `举报 noid room=305`), `/help`, the Telegram menus
//! and dispatch are all derived from that table, so a command cannot be dispatched without
//! an audience, and a word that is no command is refused ("unknown command"), never guessed.

use futures::future::BoxFuture;

use super::{
    Ctx, Dispatched, alerts, dialogue, enrolment, faq, feedback, help, index, language, links, notices, quiet, reports,
    reviews, schedule_cmd, stats, subscriptions, tickets, tips,
};
use crate::domain::Role;

/// Who may use a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Anyone,
    Staff,
    /// Station admins only.
    Admin,
}

impl Audience {
    /// Whether a person of `role` may use a command for this audience.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Audience::Anyone => true,
            Audience::Staff => role.is_staff(),
            Audience::Admin => role == Role::StationAdmin,
        }
    }
}

/// What runs a command: the context and the rest of the line.
pub type Handler = for<'a, 'b> fn(&'a mut Ctx<'b>, &'a str) -> BoxFuture<'a, Result<(), Dispatched>>;

/// One command.
pub struct Command {
    /// `/name`, also the help template `help.<name>`.
    pub name: &'static str,
    /// Chinese words that mean the same, typed with or without `/`.
    pub aliases: &'static [&'static str],
    pub audience: Audience,
    /// Listed in `/help` and the menus (`/start` is what Telegram sends, not what people type).
    pub listed: bool,
    /// In the menu of group chats.
    pub in_groups: bool,
    pub run: Handler,
}

impl Command {
    /// The help template of this command.
    pub fn help_key(&self) -> String {
        format!("help.{}", self.name)
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.name)
    }
}

impl PartialEq for Command {
    fn eq(&self, other: &Command) -> bool {
        self.name == other.name
    }
}

/// A handler from a body over `ctx` and `rest`.
macro_rules! handler {
    (|$ctx:ident, $rest:ident| $body:expr) => {{
        fn run<'a, 'b>($ctx: &'a mut Ctx<'b>, $rest: &'a str) -> BoxFuture<'a, Result<(), Dispatched>> {
            Box::pin(async move {
                let _ = &$rest;
                $body
            })
        }
        run as Handler
    }};
}

const fn command(name: &'static str, aliases: &'static [&'static str], audience: Audience, run: Handler) -> Command {
    Command {
        name,
        aliases,
        audience,
        listed: true,
        in_groups: false,
        run,
    }
}

const fn in_groups(c: Command) -> Command {
    Command { in_groups: true, ..c }
}

use Audience::{Admin, Anyone, Staff};

/// Every command, in the order `/help` lists them.
pub static COMMANDS: &[Command] = &[
    in_groups(command(
        "help",
        &["帮助"],
        Anyone,
        handler!(|ctx, rest| help::help(ctx)),
    )),
    command(
        "lang",
        &["语言"],
        Anyone,
        handler!(|ctx, rest| language::lang(ctx, rest).await),
    ),
    in_groups(command(
        "ask",
        &["提问", "咨询"],
        Anyone,
        handler!(|ctx, rest| faq::ask_command(ctx, rest).await),
    )),
    in_groups(command(
        "tip",
        &["安全提示", "提示"],
        Anyone,
        handler!(|ctx, rest| tips::tip(ctx, rest).await),
    )),
    in_groups(command(
        "index",
        &["安全指数", "指数"],
        Anyone,
        handler!(|ctx, rest| index::command(ctx, rest).await),
    )),
    command(
        "subscribe",
        &["订阅"],
        Anyone,
        handler!(|ctx, rest| subscriptions::subscribe(ctx, rest).await),
    ),
    command(
        "notice",
        &["协查通报", "寻人启事"],
        Staff,
        handler!(|ctx, rest| notices::notice(ctx, rest).await),
    ),
    command(
        "quiet",
        &["免打扰", "勿扰"],
        Anyone,
        handler!(|ctx, rest| quiet::quiet(ctx, rest).await),
    ),
    command(
        "unsubscribe",
        &["退订", "取消订阅"],
        Anyone,
        handler!(|ctx, rest| subscriptions::unsubscribe(ctx, rest).await),
    ),
    in_groups(command(
        "report",
        &["举报", "报告", "上报"],
        Anyone,
        handler!(|ctx, rest| reports::report(ctx, rest).await),
    )),
    command(
        "feedback",
        &["反馈", "投诉", "建议"],
        Anyone,
        handler!(|ctx, rest| feedback::feedback(ctx, rest).await),
    ),
    in_groups(command(
        "status",
        &["进度", "查询"],
        Anyone,
        handler!(|ctx, rest| tickets::status(ctx, rest).await),
    )),
    command(
        "cancel",
        &["取消"],
        Anyone,
        handler!(|ctx, rest| dialogue::cancel(ctx).await),
    ),
    command(
        "join",
        &["加入", "绑定"],
        Anyone,
        handler!(|ctx, rest| enrolment::join(ctx, rest).await),
    ),
    command(
        "tickets",
        &["工单"],
        Staff,
        handler!(|ctx, rest| tickets::list(ctx).await),
    ),
    command(
        "ack",
        &["受理", "签收"],
        Staff,
        handler!(|ctx, rest| tickets::ack(ctx, rest).await),
    ),
    command(
        "note",
        &["备注"],
        Staff,
        handler!(|ctx, rest| tickets::note(ctx, rest).await),
    ),
    command(
        "resolve",
        &["办结"],
        Staff,
        handler!(|ctx, rest| tickets::resolve(ctx, rest).await),
    ),
    command(
        "close",
        &["关闭", "撤单"],
        Staff,
        handler!(|ctx, rest| tickets::close(ctx, rest).await),
    ),
    command(
        "assign",
        &["指派"],
        Staff,
        handler!(|ctx, rest| tickets::assign(ctx, rest).await),
    ),
    command(
        "answer",
        &["答复", "回复"],
        Staff,
        handler!(|ctx, rest| faq::answer(ctx, rest).await),
    ),
    command(
        "alert",
        &["预警", "警报"],
        Staff,
        handler!(|ctx, rest| alerts::draft(ctx, rest).await),
    ),
    in_groups(command(
        "link",
        &["关联"],
        Staff,
        handler!(|ctx, rest| links::link(ctx, rest).await),
    )),
    command(
        "invite",
        &["邀请"],
        Staff,
        handler!(|ctx, rest| enrolment::invite(ctx, rest).await),
    ),
    command(
        "liaisons",
        &["联络员"],
        Staff,
        handler!(|ctx, rest| enrolment::list(ctx).await),
    ),
    command(
        "revoke",
        &["撤销"],
        Staff,
        handler!(|ctx, rest| enrolment::revoke(ctx, rest).await),
    ),
    command(
        "history",
        &["记录", "日志"],
        Staff,
        handler!(|ctx, rest| reviews::history(ctx, rest).await),
    ),
    in_groups(command(
        "schedule",
        &["推送时间", "定时"],
        Staff,
        handler!(|ctx, rest| schedule_cmd::schedule(ctx, rest).await),
    )),
    command(
        "campaign",
        &["专项宣传", "宣传周"],
        Staff,
        handler!(|ctx, rest| schedule_cmd::campaign(ctx, rest).await),
    ),
    command(
        "stats",
        &["统计"],
        Staff,
        handler!(|ctx, rest| stats::command(ctx, rest).await),
    ),
    command(
        "faq",
        &["问答库"],
        Staff,
        handler!(|ctx, rest| faq::station::command(ctx, rest).await),
    ),
    command(
        "station",
        &["本所信息"],
        Admin,
        handler!(|ctx, rest| faq::station_command(ctx, rest).await),
    ),
    command(
        "reviews",
        &["复核列表"],
        Admin,
        handler!(|ctx, rest| reviews::list(ctx).await),
    ),
    command(
        "review",
        &["复核"],
        Admin,
        handler!(|ctx, rest| reviews::close(ctx, rest).await),
    ),
    Command {
        listed: false,
        ..command(
            "start",
            &[],
            Anyone,
            handler!(|ctx, rest| super::start(ctx, rest).await),
        )
    },
];

/// The first word of a message, recognised.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<'a> {
    /// A known command and the rest of the line.
    Command(&'static Command, &'a str),
    /// `/something` that is no command.
    Unknown(String),
    /// Not a command at all.
    Text,
}

/// Recognises a command at the start of `text`.
pub fn parse(text: &str) -> Parsed<'_> {
    let trimmed = text.trim_start();
    let (word, rest) = match trimmed.find(char::is_whitespace) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start()),
        None => (trimmed, ""),
    };
    if let Some(name) = word.strip_prefix('/').or_else(|| word.strip_prefix('／')) {
        // `/report@beatbot_bot` in Telegram groups.
        let name = name.split('@').next().unwrap_or("").to_lowercase();
        if name.is_empty() {
            return Parsed::Text;
        }
        return match COMMANDS
            .iter()
            .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
        {
            Some(c) => Parsed::Command(c, rest),
            None => Parsed::Unknown(name.chars().take(32).collect()),
        };
    }
    match COMMANDS.iter().find(|c| c.aliases.contains(&word)) {
        Some(c) => Parsed::Command(c, rest),
        None => Parsed::Text,
    }
}

/// Runs `command` if the sender's role may use it; otherwise the refusal names the command.
pub async fn run(ctx: &mut Ctx<'_>, command: &'static Command, rest: &str) -> Result<(), Dispatched> {
    if !command.audience.allows(ctx.me.role) {
        let key = match command.audience {
            Audience::Admin => "common.admin_only",
            _ => "common.staff_only",
        };
        return Err(super::UserError::new(key).arg("name", command.name).into());
    }
    (command.run)(ctx, rest).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::templates_required_keys;

    fn named(name: &str) -> Option<&'static Command> {
        COMMANDS.iter().find(|c| c.name == name)
    }

    #[test]
    fn slash_commands_and_chinese_aliases_are_recognised() {
        let report = named("report").unwrap();
        assert_eq!(parse("/report noid room=1"), Parsed::Command(report, "noid room=1"));
        assert_eq!(parse("/Report@beatbot_bot x"), Parsed::Command(report, "x"));
        assert_eq!(parse("举报 noid"), Parsed::Command(report, "noid"));
        assert_eq!(parse("/frobnicate"), Parsed::Unknown("frobnicate".into()));
        assert_eq!(parse("where is the station?"), Parsed::Text);
        assert_eq!(parse("/"), Parsed::Text);
    }

    #[test]
    fn every_command_has_a_help_text_unique_names_and_parses_by_each() {
        let mut names = std::collections::HashSet::new();
        for c in COMMANDS {
            if c.listed {
                let key = c.help_key();
                assert!(
                    templates_required_keys().contains(&key.as_str()),
                    "no help template {key}"
                );
            }
            assert!(names.insert(c.name), "duplicate command {}", c.name);
            for alias in c.aliases {
                assert!(names.insert(alias), "alias {alias} used twice");
                assert_eq!(parse(alias), Parsed::Command(c, ""), "alias {alias} parses");
                assert_eq!(parse(&format!("/{alias}")), Parsed::Command(c, ""), "/{alias} parses");
            }
            assert_eq!(parse(&format!("/{}", c.name)), Parsed::Command(c, ""));
        }
    }
}
