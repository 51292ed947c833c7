//! Turning a line of text into a command: `/name@bot args` or a Chinese keyword typed as a
//! plain word (`举报 noid room=305`), then arguments as words and `key=value` pairs with
//! quotes ("…" or “…”) for values with spaces.

/// The commands people type. Each has a help text `help.<name>` in the templates; staff-only
/// commands are refused for everyone else before they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandName {
    Help,
    Start,
    Lang,
    Ask,
    Tip,
    Subscribe,
    Unsubscribe,
    Report,
    Feedback,
    Status,
    Cancel,
    Tickets,
    Ack,
    Note,
    Resolve,
    Assign,
    Answer,
    Alert,
    Link,
    Invite,
    Join,
    Liaisons,
    Revoke,
    Close,
    History,
    Stats,
    Reviews,
    Review,
    Faq,
    Station,
}

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
    pub fn allows(self, role: crate::domain::Role) -> bool {
        match self {
            Audience::Anyone => true,
            Audience::Staff => role.is_staff(),
            Audience::Admin => role == crate::domain::Role::StationAdmin,
        }
    }
}

/// English name, Chinese aliases, audience, in the order `/help` lists them.
pub const COMMANDS: &[(CommandName, &str, &[&str], Audience)] = &[
    (CommandName::Help, "help", &["帮助"], Audience::Anyone),
    (CommandName::Lang, "lang", &["语言"], Audience::Anyone),
    (CommandName::Ask, "ask", &["提问", "咨询"], Audience::Anyone),
    (CommandName::Tip, "tip", &["安全提示", "提示"], Audience::Anyone),
    (CommandName::Subscribe, "subscribe", &["订阅"], Audience::Anyone),
    (
        CommandName::Unsubscribe,
        "unsubscribe",
        &["退订", "取消订阅"],
        Audience::Anyone,
    ),
    (
        CommandName::Report,
        "report",
        &["举报", "报告", "上报"],
        Audience::Anyone,
    ),
    (
        CommandName::Feedback,
        "feedback",
        &["反馈", "投诉", "建议"],
        Audience::Anyone,
    ),
    (CommandName::Status, "status", &["进度", "查询"], Audience::Anyone),
    (CommandName::Cancel, "cancel", &["取消"], Audience::Anyone),
    (CommandName::Join, "join", &["加入", "绑定"], Audience::Anyone),
    (CommandName::Tickets, "tickets", &["工单"], Audience::Staff),
    (CommandName::Ack, "ack", &["受理", "签收"], Audience::Staff),
    (CommandName::Note, "note", &["备注"], Audience::Staff),
    (CommandName::Resolve, "resolve", &["办结"], Audience::Staff),
    (CommandName::Close, "close", &["关闭", "撤单"], Audience::Staff),
    (CommandName::Assign, "assign", &["指派"], Audience::Staff),
    (CommandName::Answer, "answer", &["答复", "回复"], Audience::Staff),
    (CommandName::Alert, "alert", &["预警", "警报"], Audience::Staff),
    (CommandName::Link, "link", &["关联"], Audience::Staff),
    (CommandName::Invite, "invite", &["邀请"], Audience::Staff),
    (CommandName::Liaisons, "liaisons", &["联络员"], Audience::Staff),
    (CommandName::Revoke, "revoke", &["撤销"], Audience::Staff),
    (CommandName::History, "history", &["记录", "日志"], Audience::Staff),
    (CommandName::Stats, "stats", &["统计"], Audience::Staff),
    (CommandName::Faq, "faq", &["问答库"], Audience::Staff),
    (CommandName::Station, "station", &["本所信息"], Audience::Admin),
    (CommandName::Reviews, "reviews", &["复核列表"], Audience::Admin),
    (CommandName::Review, "review", &["复核"], Audience::Admin),
    (CommandName::Start, "start", &[], Audience::Anyone),
];

impl CommandName {
    pub fn name(self) -> &'static str {
        COMMANDS.iter().find(|c| c.0 == self).map(|c| c.1).unwrap_or("help")
    }
    pub fn audience(self) -> Audience {
        COMMANDS
            .iter()
            .find(|c| c.0 == self)
            .map(|c| c.3)
            .unwrap_or(Audience::Anyone)
    }
}

/// The first word of a message, recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A known command and the rest of the line.
    Command(CommandName, &'a str),
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
        return match COMMANDS.iter().find(|c| c.1 == name || c.2.contains(&name.as_str())) {
            Some(c) => Parsed::Command(c.0, rest),
            None => Parsed::Unknown(name.chars().take(32).collect()),
        };
    }
    match COMMANDS.iter().find(|c| c.2.contains(&word)) {
        Some(c) => Parsed::Command(c.0, rest),
        None => Parsed::Text,
    }
}

/// One argument: a plain word or a `key=value` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Word(String),
    Pair(String, String),
}

/// What is wrong with an argument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    UnterminatedQuote,
    EmptyValue(String),
    /// `=value` with no key, or a key with characters other than letters, digits and `_`.
    BadPair(String),
}

/// Splits arguments on white space; double quotes (ASCII or Chinese) group words; a word of
/// the form `key=value` becomes a pair (keys are lower-cased).
pub fn arguments(input: &str) -> Result<Vec<Arg>, ArgError> {
    let mut args = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(args);
        }
        let mut raw = String::new();
        let mut quoted_from: Option<usize> = None;
        let mut key_len: Option<usize> = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '"' | '“' | '”' => {
                    quoted_from.get_or_insert(raw.len());
                    let mut closed = false;
                    for q in chars.by_ref() {
                        if matches!(q, '"' | '”' | '“') {
                            closed = true;
                            break;
                        }
                        raw.push(q);
                    }
                    if !closed {
                        return Err(ArgError::UnterminatedQuote);
                    }
                }
                '=' | '＝' if key_len.is_none() && quoted_from.is_none() => {
                    key_len = Some(raw.len());
                    raw.push('=');
                }
                c => raw.push(c),
            }
        }
        match key_len {
            None => args.push(Arg::Word(raw)),
            Some(k) => {
                let key = raw[..k].to_lowercase();
                let value = raw[k + 1..].trim().to_owned();
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(ArgError::BadPair(raw.chars().take(40).collect()));
                }
                if value.is_empty() {
                    return Err(ArgError::EmptyValue(key));
                }
                args.push(Arg::Pair(key, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands_and_chinese_aliases_are_recognised() {
        assert_eq!(
            parse("/report noid room=1"),
            Parsed::Command(CommandName::Report, "noid room=1")
        );
        assert_eq!(
            parse("/Report@beatbot_bot x"),
            Parsed::Command(CommandName::Report, "x")
        );
        assert_eq!(parse("举报 noid"), Parsed::Command(CommandName::Report, "noid"));
        assert_eq!(parse("/frobnicate"), Parsed::Unknown("frobnicate".into()));
        assert_eq!(parse("where is the station?"), Parsed::Text);
        assert_eq!(parse("/"), Parsed::Text);
    }

    #[test]
    fn arguments_split_words_pairs_and_quotes() {
        let args = arguments(r#"noid room=305 name="Zhao Liu" note=“两 人”"#).unwrap();
        assert_eq!(
            args,
            vec![
                Arg::Word("noid".into()),
                Arg::Pair("room".into(), "305".into()),
                Arg::Pair("name".into(), "Zhao Liu".into()),
                Arg::Pair("note".into(), "两 人".into()),
            ]
        );
        assert_eq!(
            arguments("a=\"x=y\"").unwrap(),
            vec![Arg::Pair("a".into(), "x=y".into())]
        );
    }

    #[test]
    fn malformed_arguments_are_errors() {
        assert_eq!(arguments(r#"name="Zhao"#), Err(ArgError::UnterminatedQuote));
        assert_eq!(arguments("room="), Err(ArgError::EmptyValue("room".into())));
        assert!(matches!(arguments("=305"), Err(ArgError::BadPair(_))));
    }
}

#[cfg(test)]
mod help_sync {
    use super::*;
    use crate::scripts::templates_required_keys;

    #[test]
    fn every_command_has_a_help_text_and_unique_names() {
        let mut names = std::collections::HashSet::new();
        for (name, english, aliases, _) in COMMANDS {
            if *name != CommandName::Start {
                let key = format!("help.{english}");
                assert!(
                    templates_required_keys().contains(&key.as_str()),
                    "no help template {key}"
                );
            }
            assert!(names.insert(*english), "duplicate command {english}");
            for alias in *aliases {
                assert!(names.insert(alias), "alias {alias} used twice");
                assert_eq!(parse(alias), Parsed::Command(*name, ""), "alias {alias} parses");
            }
            assert_eq!(parse(&format!("/{english}")), Parsed::Command(*name, ""));
        }
    }
}
