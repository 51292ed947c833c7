//! Loading bot-scripts from a directory, with every problem reported as `file:line: what`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

use super::model::*;
use super::templates::{REQUIRED_KEYS, Templates, placeholders};
use crate::domain::{Lang, ReportKind, Role};

/// One problem in bot-scripts, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ScriptError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawText {
    pub(super) zh: Option<String>,
    pub(super) en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    default_lang: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    dialogue_expiry_hours: Option<i64>,
    invite_hours: Option<i64>,
    silent_hotel_days: Option<i64>,
    flood_per_person: Option<u32>,
    flood_per_group: Option<u32>,
    wrong_join_codes: Option<u32>,
    alert_expiry_hours: Option<u32>,
    quiet_hours: Option<Spanned<String>>,
    notice_expiry_days: Option<u32>,
    feedback: Option<RawFeedback>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeedback {
    reply_hours: Option<i64>,
    #[serde(default)]
    category: Vec<RawCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    key: Spanned<String>,
    label: Spanned<RawText>,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForms {
    #[serde(default)]
    form: Vec<RawForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    kind: Spanned<String>,
    who: Spanned<Vec<String>>,
    title: Spanned<RawText>,
    summary: Spanned<RawText>,
    sla: Option<Spanned<RawSla>>,
    #[serde(default)]
    field: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    ack_minutes: Option<i64>,
    resolve_hours: Option<i64>,
    remind_minutes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    key: Spanned<String>,
    #[serde(rename = "type")]
    field_type: Spanned<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    personal: bool,
    #[serde(default)]
    ask: bool,
    pattern: Option<Spanned<String>>,
    label: Spanned<RawText>,
    prompt: Spanned<RawText>,
    #[serde(default)]
    option: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    key: Spanned<String>,
    label: Spanned<RawText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTips {
    #[serde(default)]
    suits: BTreeMap<String, Spanned<RawText>>,
    #[serde(default)]
    tip: Vec<RawTip>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTip {
    id: Spanned<String>,
    suit: Spanned<String>,
    text: Spanned<RawText>,
}

/// One file being checked: its path, its text, and the errors found in it.
pub(super) struct Source<'a> {
    path: PathBuf,
    text: String,
    errors: &'a mut Vec<ScriptError>,
}

impl<'a> Source<'a> {
    pub(super) fn new(path: PathBuf, text: String, errors: &'a mut Vec<ScriptError>) -> Source<'a> {
        Source { path, text, errors }
    }
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }
    pub(super) fn error(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.errors.push(ScriptError {
            file: self.path.clone(),
            line,
            message: message.into(),
        });
    }
    pub(super) fn parse<T: DeserializeOwned>(&mut self) -> Option<T> {
        match toml::from_str::<T>(&self.text) {
            Ok(value) => Some(value),
            Err(e) => {
                let offset = e.span().map(|s| s.start).unwrap_or(0);
                let message = e.message().to_owned();
                self.error(offset, message);
                None
            }
        }
    }
    /// Both translations present and non-empty, or an error naming what is missing.
    pub(super) fn text(&mut self, raw: &Spanned<RawText>, what: &str) -> Text {
        let offset = raw.span().start;
        let get = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
        let (zh, en) = (get(&raw.get_ref().zh), get(&raw.get_ref().en));
        for (value, code) in [(&zh, "zh"), (&en, "en")] {
            if value.is_empty() {
                self.error(offset, format!("missing translation: {what} has no `{code}` text"));
            }
        }
        Text { zh, en }
    }
}

pub(super) fn open<'a>(dir: &Path, name: &str, errors: &'a mut Vec<ScriptError>) -> Option<Source<'a>> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(Source { path, text, errors }),
        Err(e) => {
            errors.push(ScriptError {
                file: path,
                line: 1,
                message: format!("cannot read file: {e}"),
            });
            None
        }
    }
}

/// Loads and checks every file of a bot-scripts directory.
pub fn load(dir: &Path) -> Result<Scripts, Vec<ScriptError>> {
    let mut errors = Vec::new();
    let settings = load_settings(dir, &mut errors);
    let forms = load_forms(dir, &mut errors);
    let faq = super::faq_check::load_faq(dir, &mut errors);
    let matching = super::faq_check::load_matching(dir, &mut errors);
    let out_of_scope = super::faq_check::load_out_of_scope(dir, &faq, &mut errors);
    let (suits, tips) = load_tips(dir, &mut errors);
    let templates = load_templates(dir, &mut errors);
    let schedules = super::schedule_check::load_schedules(dir, &suits, &mut errors);
    let index = super::schedule_check::load_index(dir, &suits, &mut errors);
    if errors.is_empty() {
        Ok(Scripts {
            settings: settings.expect("no errors means settings loaded"),
            forms,
            faq,
            out_of_scope,
            matching,
            suits,
            tips,
            templates,
            schedules: schedules.expect("no errors means schedule.toml loaded"),
            index: index.expect("no errors means index.toml loaded"),
        })
    } else {
        Err(errors)
    }
}

fn load_settings(dir: &Path, errors: &mut Vec<ScriptError>) -> Option<Settings> {
    let mut src = open(dir, "bot.toml", errors)?;
    let raw: RawSettings = src.parse()?;
    let mut default_lang = Lang::Zh;
    if let Some(lang) = &raw.default_lang {
        match Lang::parse(lang.get_ref()) {
            Some(l) => default_lang = l,
            None => src.error(
                lang.span().start,
                format!("unknown language `{}` (zh or en)", lang.get_ref()),
            ),
        }
    }
    let mut timezone = chrono_tz::Asia::Shanghai;
    if let Some(tz) = &raw.timezone {
        match tz.get_ref().parse::<chrono_tz::Tz>() {
            Ok(t) => timezone = t,
            Err(_) => src.error(tz.span().start, format!("unknown time zone `{}`", tz.get_ref())),
        }
    }
    let feedback = raw.feedback.unwrap_or(RawFeedback {
        reply_hours: None,
        category: Vec::new(),
    });
    let mut categories = Vec::new();
    let mut seen = HashSet::new();
    for cat in &feedback.category {
        if !seen.insert(cat.key.get_ref().clone()) {
            src.error(
                cat.key.span().start,
                format!("duplicate id: feedback category `{}`", cat.key.get_ref()),
            );
        }
        let label = src.text(&cat.label, &format!("feedback category `{}` label", cat.key.get_ref()));
        let keywords = cat.keywords.iter().map(|k| k.to_lowercase()).collect();
        categories.push((cat.key.get_ref().clone(), label, keywords));
    }
    let mut quiet_hours = Some((22 * 60, 7 * 60));
    if let Some(q) = &raw.quiet_hours {
        let text = q.get_ref().trim();
        if text == "off" {
            quiet_hours = None;
        } else {
            match crate::core::quiet::parse_window(text) {
                Some(w) => quiet_hours = Some(w),
                None => src.error(
                    q.span().start,
                    format!("quiet_hours `{text}` is not HH:MM-HH:MM (or off)"),
                ),
            }
        }
    }
    Some(Settings {
        quiet_hours,
        default_lang,
        timezone,
        feedback_categories: categories,
        feedback_reply_hours: feedback.reply_hours.unwrap_or(24),
        dialogue_expiry_hours: raw.dialogue_expiry_hours.unwrap_or(24),
        invite_hours: raw.invite_hours.unwrap_or(72),
        silent_hotel_days: raw.silent_hotel_days.unwrap_or(7),
        flood_per_person: raw.flood_per_person.unwrap_or(20),
        flood_per_group: raw.flood_per_group.unwrap_or(60),
        wrong_join_codes: raw.wrong_join_codes.unwrap_or(5).max(1).into(),
        alert_expiry_hours: raw.alert_expiry_hours.unwrap_or(24).max(1).into(),
        notice_expiry_days: raw.notice_expiry_days.unwrap_or(30).max(1).into(),
    })
}

fn load_forms(dir: &Path, errors: &mut Vec<ScriptError>) -> Vec<Form> {
    let Some(mut src) = open(dir, "forms.toml", errors) else {
        return Vec::new();
    };
    let Some(raw) = src.parse::<RawForms>() else {
        return Vec::new();
    };
    let mut forms = Vec::new();
    let mut seen_kinds = HashSet::new();
    for rf in &raw.form {
        let kind_at = rf.kind.span().start;
        let Some(kind) = ReportKind::parse(rf.kind.get_ref()).filter(|k| k.as_str() == rf.kind.get_ref()) else {
            src.error(
                kind_at,
                format!(
                    "unknown report kind `{}` (noid, item, person, fraud, tip, lost)",
                    rf.kind.get_ref()
                ),
            );
            continue;
        };
        if !seen_kinds.insert(kind) {
            src.error(
                kind_at,
                format!("duplicate id: form `{}` is defined twice", kind.as_str()),
            );
        }
        let mut who = Vec::new();
        for role in rf.who.get_ref() {
            match Role::parse(role).filter(|r| matches!(r, Role::Resident | Role::Liaison)) {
                Some(r) => who.push(r),
                None => src.error(
                    rf.who.span().start,
                    format!("unknown role `{role}` in who (resident, liaison)"),
                ),
            }
        }
        let title = src.text(&rf.title, &format!("form `{}` title", kind.as_str()));
        let summary = src.text(&rf.summary, &format!("form `{}` summary", kind.as_str()));
        let mut fields = Vec::new();
        let mut seen_keys = HashSet::new();
        for raw_field in &rf.field {
            if let Some(field) = check_field(&mut src, kind, raw_field, &mut seen_keys) {
                fields.push(field);
            }
        }
        if !fields.iter().any(|f| f.required) {
            src.error(kind_at, format!("form `{}` has no required field", kind.as_str()));
        }
        let sla = check_sla(&mut src, kind, rf.sla.as_ref());
        forms.push(Form {
            kind,
            who,
            title,
            summary,
            fields,
            sla,
        });
    }
    for kind in ReportKind::ALL {
        if !seen_kinds.contains(&kind) {
            src.error(0, format!("form `{}` is missing", kind.as_str()));
        }
    }
    forms
}

/// A form's deadlines: the defaults where bot-scripts give none; every window positive,
/// and the resolution reminder inside the resolution window.
fn check_sla(src: &mut Source<'_>, kind: ReportKind, raw: Option<&Spanned<RawSla>>) -> Sla {
    let default = Sla::default_for(kind);
    let Some(raw) = raw else {
        return default;
    };
    let at = raw.span().start;
    let raw = raw.get_ref();
    let sla = Sla {
        ack_minutes: raw.ack_minutes.unwrap_or(default.ack_minutes),
        resolve_minutes: raw.resolve_hours.map(|h| h * 60).unwrap_or(default.resolve_minutes),
        remind_minutes: raw.remind_minutes.unwrap_or(default.remind_minutes),
    };
    if sla.ack_minutes <= 0 || sla.resolve_minutes <= 0 || sla.remind_minutes <= 0 {
        src.error(at, format!("form `{}` sla: every time must be positive", kind.as_str()));
    } else if sla.ack_minutes > sla.resolve_minutes {
        src.error(
            at,
            format!("form `{}` sla: ack_minutes is longer than resolve_hours", kind.as_str()),
        );
    } else if sla.remind_minutes >= sla.resolve_minutes {
        src.error(
            at,
            format!(
                "form `{}` sla: remind_minutes must be shorter than resolve_hours",
                kind.as_str()
            ),
        );
    }
    sla
}

fn check_field(src: &mut Source<'_>, kind: ReportKind, raw: &RawField, seen: &mut HashSet<String>) -> Option<Field> {
    let key = raw.key.get_ref().clone();
    let key_at = raw.key.span().start;
    if !seen.insert(key.clone()) {
        src.error(
            key_at,
            format!("duplicate id: field `{key}` appears twice in form `{}`", kind.as_str()),
        );
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        src.error(key_at, format!("field key `{key}` must be lower-case letters and `_`"));
    }
    let field_type = FieldType::parse(raw.field_type.get_ref());
    if field_type.is_none() {
        src.error(
            raw.field_type.span().start,
            format!(
                "unknown field type `{}` (text, room, id_number, phone, time, choice, multichoice, photo, location, yesno, amount)",
                raw.field_type.get_ref()
            ),
        );
    }
    let pattern = raw.pattern.as_ref().and_then(|p| match Regex::new(p.get_ref()) {
        Ok(re) => Some(re),
        Err(e) => {
            let first = e.to_string().lines().last().unwrap_or("invalid").trim().to_owned();
            src.error(p.span().start, format!("bad regex in field `{key}`: {first}"));
            None
        }
    });
    let what = format!("field `{key}` of form `{}`", kind.as_str());
    let label = src.text(&raw.label, &format!("{what} label"));
    let prompt = src.text(&raw.prompt, &format!("{what} prompt"));
    let mut options = Vec::new();
    let mut seen_options = HashSet::new();
    for opt in &raw.option {
        if !seen_options.insert(opt.key.get_ref().clone()) {
            src.error(
                opt.key.span().start,
                format!("duplicate id: option `{}` in {what}", opt.key.get_ref()),
            );
        }
        let label = src.text(&opt.label, &format!("option `{}` of {what}", opt.key.get_ref()));
        options.push(FieldOption {
            key: opt.key.get_ref().clone(),
            label,
        });
    }
    let field_type = field_type?;
    if matches!(field_type, FieldType::Choice | FieldType::MultiChoice) && options.is_empty() {
        src.error(key_at, format!("{what} is a choice but has no options"));
    }
    if raw.ask && (raw.required || field_type != FieldType::MultiChoice) {
        // A checklist left empty is a clear "none of these"; other optional fields would need
        // a way to skip them in the dialogue.
        src.error(key_at, format!("{what}: `ask` is for optional multichoice fields"));
    }
    Some(Field {
        key,
        field_type,
        required: raw.required,
        personal: raw.personal,
        ask: raw.ask,
        pattern,
        label,
        prompt,
        options,
    })
}

fn load_tips(dir: &Path, errors: &mut Vec<ScriptError>) -> (BTreeMap<String, Text>, Vec<Tip>) {
    let Some(mut src) = open(dir, "tips.toml", errors) else {
        return Default::default();
    };
    let Some(raw) = src.parse::<RawTips>() else {
        return Default::default();
    };
    let mut suits = BTreeMap::new();
    for (key, label) in &raw.suits {
        let text = src.text(label, &format!("suit `{key}`"));
        suits.insert(key.clone(), text);
    }
    let mut seen = HashSet::new();
    let mut tips = Vec::new();
    for rt in &raw.tip {
        let id = rt.id.get_ref().clone();
        if !seen.insert(id.clone()) {
            src.error(rt.id.span().start, format!("duplicate id: tip `{id}`"));
        }
        if !suits.contains_key(rt.suit.get_ref()) {
            src.error(
                rt.suit.span().start,
                format!("unknown suit `{}` in tip `{id}`", rt.suit.get_ref()),
            );
        }
        let text = src.text(&rt.text, &format!("tip `{id}`"));
        tips.push(Tip {
            id,
            suit: rt.suit.get_ref().clone(),
            text,
        });
    }
    (suits, tips)
}

type RawTemplateFile = BTreeMap<String, BTreeMap<String, Spanned<String>>>;
type FlatTemplates = BTreeMap<String, (usize, String)>;

fn load_templates(dir: &Path, errors: &mut Vec<ScriptError>) -> Templates {
    // (path, flattened `section.key` → (line, text)) per language file.
    let mut files: Vec<(PathBuf, FlatTemplates)> = Vec::new();
    for name in ["templates/zh-CN.toml", "templates/en.toml"] {
        let Some(mut src) = open(dir, name, errors) else {
            continue;
        };
        let Some(raw) = src.parse::<RawTemplateFile>() else {
            continue;
        };
        let mut flat = BTreeMap::new();
        for (section, entries) in raw {
            for (key, value) in entries {
                let line = src.line_of(value.span().start);
                flat.insert(format!("{section}.{key}"), (line, value.into_inner()));
            }
        }
        files.push((src.path.clone(), flat));
    }
    if files.len() != 2 {
        return Templates::default();
    }
    let (zh_path, en_path) = (files[0].0.clone(), files[1].0.clone());
    let (zh, en) = (&files[0].1, &files[1].1);
    let push = |errors: &mut Vec<ScriptError>, file: &Path, line: usize, message: String| {
        errors.push(ScriptError {
            file: file.to_path_buf(),
            line,
            message,
        });
    };
    for (key, (line, text)) in zh {
        match en.get(key) {
            None => push(
                errors,
                &zh_path,
                *line,
                format!("missing translation: `{key}` has no en text in templates/en.toml"),
            ),
            Some((en_line, en_text)) => {
                if placeholders(text) != placeholders(en_text) {
                    push(
                        errors,
                        &en_path,
                        *en_line,
                        format!(
                            "placeholders of `{key}` differ between zh-CN {:?} and en {:?}",
                            placeholders(text),
                            placeholders(en_text)
                        ),
                    );
                }
            }
        }
    }
    for (key, (line, _)) in en {
        if !zh.contains_key(key) {
            push(
                errors,
                &en_path,
                *line,
                format!("missing translation: `{key}` has no zh text in templates/zh-CN.toml"),
            );
        }
    }
    for key in REQUIRED_KEYS {
        if !zh.contains_key(*key) && !en.contains_key(*key) {
            push(
                errors,
                &en_path,
                1,
                format!("template `{key}` is missing (the bot uses it)"),
            );
        }
    }
    Templates {
        zh: zh.iter().map(|(k, (_, v))| (k.clone(), v.clone())).collect(),
        en: en.iter().map(|(k, (_, v))| (k.clone(), v.clone())).collect(),
    }
}
