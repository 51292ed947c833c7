//! Reading a transcript into steps, each with its line number.

use regex::Regex;

/// A `/regex/flags` or a plain substring.
#[derive(Debug, Clone)]
pub enum Pattern {
    Regex(Regex),
    Plain(String),
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let t = text.trim();
        if t.len() >= 2
            && t.starts_with('/')
            && let Some(end) = t.rfind('/').filter(|&e| e > 0)
        {
            let flags = &t[end + 1..];
            if flags.chars().all(|c| matches!(c, 'i' | 's' | 'm' | 'x' | 'u')) {
                // `{name}` (a captured value, filled in later) stands for itself until then.
                let body = placeholder().replace_all(&t[1..end], r"\{$1\}");
                let source = if flags.is_empty() {
                    body.into_owned()
                } else {
                    format!("(?{flags}){body}")
                };
                return Regex::new(&source)
                    .map(Pattern::Regex)
                    .map_err(|e| format!("bad regex: {e}"));
            }
        }
        Ok(Pattern::Plain(t.to_owned()))
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Regex(re) => re.is_match(text),
            Pattern::Plain(s) => text.contains(s.as_str()),
        }
    }

    pub fn source(&self) -> String {
        match self {
            Pattern::Regex(re) => format!("/{}/", re.as_str()),
            Pattern::Plain(s) => format!("\"{s}\""),
        }
    }
}

fn placeholder() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*)\}").expect("valid regex"))
}

/// Values captured by named groups `(?P<name>…)` of `<` patterns, put into later `>` lines
/// wherever they say `{name}`: an enrolment code the bot made up, say.
#[derive(Debug, Default, Clone)]
pub struct Captures(std::collections::HashMap<String, String>);

impl Captures {
    /// Remembers the named groups of the first text the pattern matches.
    pub fn learn<'a>(&mut self, pattern: &Pattern, texts: impl IntoIterator<Item = &'a str>) {
        let Pattern::Regex(re) = pattern else { return };
        let Some(caps) = texts.into_iter().find_map(|t| re.captures(t)) else {
            return;
        };
        for name in re.capture_names().flatten() {
            if let Some(value) = caps.name(name) {
                self.0.insert(name.to_owned(), value.as_str().to_owned());
            }
        }
    }

    /// `text` with every `{name}` of a captured value replaced by it.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.0 {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// The pattern with captured values put in (escaped, in a regex).
    pub fn pattern(&self, pattern: &Pattern) -> Pattern {
        match pattern {
            Pattern::Plain(s) => Pattern::Plain(self.fill(s)),
            Pattern::Regex(re) => {
                let mut source = re.as_str().to_owned();
                for (name, value) in &self.0 {
                    source = source.replace(&format!("\\{{{name}\\}}"), &regex::escape(value));
                }
                Regex::new(&source).map_or_else(|_| pattern.clone(), Pattern::Regex)
            }
        }
    }
}

/// Where a check looks: a group, or a person's private chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Group(String),
    Dm(String),
}

#[derive(Debug, Clone)]
pub enum Step {
    Clock(i64),
    Station {
        id: String,
        name: String,
        opts: Vec<(String, String)>,
    },
    Officer {
        name: String,
        station: String,
        duty: bool,
        /// A station admin (`@officer sun xinhua admin`).
        admin: bool,
        opts: Vec<(String, String)>,
    },
    Liaison {
        name: String,
        station: String,
        hotel: String,
        opts: Vec<(String, String)>,
    },
    Resident {
        name: String,
        opts: Vec<(String, String)>,
    },
    Group {
        id: String,
        kind: String,
        station: String,
        members: Vec<String>,
    },
    Advance(i64),
    Say {
        chat: Option<String>,
        user: String,
        text: String,
    },
    Press {
        user: String,
        label: Pattern,
    },
    Expect {
        chat: Check,
        pattern: Pattern,
        negated: bool,
    },
}

/// Splits on white space, keeping "quoted words" together.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut had_quote = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quote = !in_quote;
                had_quote = true;
            }
            c if c.is_whitespace() && !in_quote => {
                if !cur.is_empty() || had_quote {
                    out.push(std::mem::take(&mut cur));
                }
                had_quote = false;
            }
            c => cur.push(c),
        }
    }
    if in_quote {
        return Err("unterminated quote".into());
    }
    if !cur.is_empty() || had_quote {
        out.push(cur);
    }
    Ok(out)
}

fn split_opts(rest: &[String]) -> (Vec<String>, Vec<(String, String)>) {
    let mut plain = Vec::new();
    let mut opts = Vec::new();
    for w in rest {
        match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => opts.push((k.to_owned(), v.to_owned())),
            _ => plain.push(w.clone()),
        }
    }
    (plain, opts)
}

/// `45m`, `2h`, `30s`, `1d` in milliseconds.
pub fn duration_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * ms)
}

/// Parses a transcript; errors carry their line number.
pub fn parse(text: &str) -> Result<Vec<(usize, Step)>, (usize, String)> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let step = parse_line(line).map_err(|e| (n, e))?;
        steps.push((n, step));
    }
    Ok(steps)
}

fn parse_line(line: &str) -> Result<Step, String> {
    if let Some(rest) = line.strip_prefix('@') {
        let w = words(rest)?;
        let need = |k: usize| {
            if w.len() >= k {
                Ok(())
            } else {
                Err(format!("@{} needs {} words", w[0], k - 1))
            }
        };
        return match w.first().map(String::as_str) {
            Some("clock") => {
                need(2)?;
                let at = chrono::DateTime::parse_from_rfc3339(&w[1]).map_err(|e| format!("bad time: {e}"))?;
                Ok(Step::Clock(at.timestamp_millis()))
            }
            Some("station") => {
                need(3)?;
                let (_, opts) = split_opts(&w[3..]);
                Ok(Step::Station {
                    id: w[1].clone(),
                    name: w[2].clone(),
                    opts,
                })
            }
            Some("officer") => {
                need(3)?;
                let (plain, opts) = split_opts(&w[3..]);
                Ok(Step::Officer {
                    name: w[1].clone(),
                    station: w[2].clone(),
                    duty: plain.iter().any(|p| p == "duty"),
                    admin: plain.iter().any(|p| p == "admin"),
                    opts,
                })
            }
            Some("liaison") => {
                need(4)?;
                let (_, opts) = split_opts(&w[4..]);
                Ok(Step::Liaison {
                    name: w[1].clone(),
                    station: w[2].clone(),
                    hotel: w[3].clone(),
                    opts,
                })
            }
            Some("resident") => {
                need(2)?;
                let (_, opts) = split_opts(&w[2..]);
                Ok(Step::Resident {
                    name: w[1].clone(),
                    opts,
                })
            }
            Some("group") => {
                need(4)?;
                Ok(Step::Group {
                    id: w[1].clone(),
                    kind: w[2].clone(),
                    station: w[3].clone(),
                    members: w[4..].to_vec(),
                })
            }
            Some("advance") => {
                need(2)?;
                duration_ms(&w[1])
                    .map(Step::Advance)
                    .ok_or_else(|| format!("bad duration `{}`", w[1]))
            }
            other => Err(format!("unknown directive @{}", other.unwrap_or(""))),
        };
    }
    if let Some(rest) = line.strip_prefix('>') {
        let (head, text) = rest.split_once(':').ok_or("a `>` line needs `CHAT USER: TEXT`")?;
        let head: Vec<&str> = head.split_whitespace().collect();
        let text = text.strip_prefix(' ').unwrap_or(text).to_owned();
        return match head.as_slice() {
            ["press", user] => Ok(Step::Press {
                user: (*user).to_owned(),
                label: Pattern::parse(&text)?,
            }),
            ["dm", user] => Ok(Step::Say {
                chat: None,
                user: (*user).to_owned(),
                text,
            }),
            [chat, user] => Ok(Step::Say {
                chat: Some((*chat).to_owned()),
                user: (*user).to_owned(),
                text,
            }),
            _ => Err("a `>` line needs `CHAT USER: TEXT`".into()),
        };
    }
    let (negated, rest) = if let Some(r) = line.strip_prefix("<!") {
        (true, r)
    } else if let Some(r) = line.strip_prefix('<') {
        (false, r)
    } else {
        return Err("a line must start with #, @, > or <".into());
    };
    let (head, pattern) = rest.split_once(':').ok_or("a `<` line needs `CHAT: PATTERN`")?;
    let head: Vec<&str> = head.split_whitespace().collect();
    let chat = match head.as_slice() {
        ["dm", user] => Check::Dm((*user).to_owned()),
        [group] => Check::Group((*group).to_owned()),
        _ => return Err("a `<` line needs `CHAT: PATTERN` (CHAT is a group or `dm USER`)".into()),
    };
    Ok(Step::Expect {
        chat,
        pattern: Pattern::parse(pattern)?,
        negated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_line() {
        let text = r#"
# comment
@clock 2026-11-23T09:00:00+08:00
@station xinhua "Xinhua Road Station"
@officer wang xinhua beat=east
@officer zhou xinhua duty
@liaison li xinhua "Jinjiang Inn" beat=east
@group hotels liaison xinhua li wang
@advance 45m
> hotels li: /report noid room=305 name="Zhao Liu"
> press li: Confirm
< dm wang: /Jinjiang Inn/
<! hotels: /\d{17}[\dX]/i
"#;
        let steps = parse(text).unwrap();
        assert_eq!(steps.len(), 11);
        assert!(matches!(&steps[3].1, Step::Officer { duty: true, .. }));
        assert!(matches!(&steps[4].1, Step::Liaison { hotel, .. } if hotel == "Jinjiang Inn"));
        assert!(matches!(&steps[6].1, Step::Advance(2_700_000)));
        assert!(matches!(&steps[7].1, Step::Say { text, .. } if text == r#"/report noid room=305 name="Zhao Liu""#));
        assert!(matches!(&steps[10].1, Step::Expect { negated: true, .. }));
        assert_eq!(steps[10].0, 13);
    }

    #[test]
    fn captured_values_fill_later_lines() {
        let mut caps = Captures::default();
        let pattern = Pattern::parse(r"/code (?P<code>[A-Z0-9]{8})/").unwrap();
        caps.learn(&pattern, ["no code here", "your code K7QM2XPA, once"]);
        assert_eq!(caps.fill("/join {code}"), "/join K7QM2XPA");
        assert_eq!(caps.fill("{other} stays"), "{other} stays");
        assert!(
            caps.pattern(&Pattern::parse("code {code}").unwrap())
                .matches("code K7QM2XPA")
        );
        assert!(caps.pattern(&Pattern::parse("/^{code}$/").unwrap()).matches("K7QM2XPA"));
    }

    #[test]
    fn reports_the_line_of_a_bad_step() {
        assert_eq!(parse("\n@frob x").unwrap_err().0, 2);
        assert!(parse("< hotels /x/").is_err());
    }
}
