//! The checked, in-memory form of bot-scripts that the core reads.

use std::collections::BTreeMap;

use regex::Regex;

use super::Templates;
use crate::domain::{Lang, ReportKind, Role};

/// A text in both languages.
#[derive(Debug, Clone, Default)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// `bot.toml`: station-wide defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub default_lang: Lang,
    pub timezone: chrono_tz::Tz,
    /// Feedback category → keywords that classify a `/feedback` text into it.
    pub feedback_categories: Vec<(String, Text, Vec<String>)>,
    pub feedback_reply_hours: i64,
    /// How many hours a half-filled report dialogue stays open.
    pub dialogue_expiry_hours: i64,
    /// How many hours an enrolment code from `/invite` stays good.
    pub invite_hours: i64,
    /// After how many days without a word from its front desks a hotel is flagged to its beat
    /// officer.
    pub silent_hotel_days: i64,
    /// Messages one person may send in [`crate::flood::WINDOW_MS`] before the rest are ignored
    /// (after one "slow down"); 0: no limit.
    pub flood_per_person: u32,
    /// The same for all senders of one group together.
    pub flood_per_group: u32,
    /// Wrong `/join` codes a person may try in an hour before being locked out for the hour.
    pub wrong_join_codes: i64,
    /// How long an officer's alert applies unless the officer says otherwise: past it, copies
    /// still waiting are withdrawn (CAP `expires`).
    pub alert_expiry_hours: i64,
    /// Quiet hours of a person who set none (minutes after midnight, from and to); `None`: none.
    pub quiet_hours: Option<(i64, i64)>,
    /// How many days a missing-person or wanted notice runs unless renewed.
    pub notice_expiry_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Room,
    IdNumber,
    Phone,
    Time,
    Choice,
    MultiChoice,
    Photo,
    Location,
    YesNo,
    Amount,
}

impl FieldType {
    pub fn parse(s: &str) -> Option<FieldType> {
        Some(match s {
            "text" => FieldType::Text,
            "room" => FieldType::Room,
            "id_number" => FieldType::IdNumber,
            "phone" => FieldType::Phone,
            "time" => FieldType::Time,
            "choice" => FieldType::Choice,
            "multichoice" => FieldType::MultiChoice,
            "photo" => FieldType::Photo,
            "location" => FieldType::Location,
            "yesno" => FieldType::YesNo,
            "amount" => FieldType::Amount,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FieldOption {
    pub key: String,
    pub label: Text,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub key: String,
    pub field_type: FieldType,
    pub required: bool,
    /// Personal data: never shown in a group, masked where the type says so, purged later.
    pub personal: bool,
    /// An optional checklist asked in the guided dialogue anyway (Done with none ticked skips it).
    pub ask: bool,
    pub pattern: Option<Regex>,
    pub label: Text,
    pub prompt: Text,
    pub options: Vec<FieldOption>,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub kind: ReportKind,
    pub who: Vec<Role>,
    pub title: Text,
    pub summary: Text,
    pub fields: Vec<Field>,
    pub sla: Sla,
}

/// A form's service levels: how soon a ticket must be acknowledged and resolved, and how long
/// before the resolution deadline the officer is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sla {
    pub ack_minutes: i64,
    pub resolve_minutes: i64,
    pub remind_minutes: i64,
}

impl Sla {
    /// Issue 5's defaults: a front desk's report is acknowledged within minutes (an unattended
    /// item within 10), a resident's within a day.
    pub fn default_for(kind: ReportKind) -> Sla {
        let (ack, resolve_hours) = match kind {
            ReportKind::Noid => (15, 4),
            ReportKind::Item => (10, 2),
            ReportKind::Person => (15, 24),
            ReportKind::Fraud | ReportKind::Tip | ReportKind::Lost => (24 * 60, 7 * 24),
        };
        let resolve = resolve_hours * 60;
        Sla {
            ack_minutes: ack,
            resolve_minutes: resolve,
            remind_minutes: (resolve / 4).min(60),
        }
    }
}
impl Form {
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
    /// Whether a person of `role` may file this form (officers may file any form).
    pub fn allows(&self, role: Role) -> bool {
        self.who.contains(&role)
    }
}

#[derive(Debug, Clone)]
pub struct Faq {
    pub id: String,
    pub question: Text,
    pub answer: Text,
    pub keywords_zh: Vec<String>,
    pub keywords_en: Vec<String>,
    /// Ways residents put the same need, matched like the question.
    pub examples_zh: Vec<String>,
    pub examples_en: Vec<String>,
}

/// A kind of question that is not police business (`out-of-scope.toml`): when it matches best,
/// the bot answers nothing from the FAQ.
#[derive(Debug, Clone)]
pub struct OutOfScope {
    pub id: String,
    pub examples_zh: Vec<String>,
    pub examples_en: Vec<String>,
}

/// `matching.toml` and `synonyms.toml`: how questions are matched to the FAQ, and when the bot
/// answers, offers choices, or hands over (calibrated with `beatbot faq eval`).
#[derive(Debug, Clone, Default)]
pub struct Matching {
    /// The share of the question (IDF-weighted) the best entry must explain to answer.
    pub answer_coverage: f32,
    /// How far ahead of the runner-up the best entry must be, as a share of its score.
    pub margin: f32,
    /// The least BM25 score an entry needs to be answered or offered.
    pub min_score: f32,
    /// The least BM25 score an entry needs to be offered as "Did you mean".
    pub suggest_min_score: f32,
    /// Below `answer_coverage` but at least this: close entries are offered as buttons.
    pub suggest_coverage: f32,
    /// Entries scoring at least this share of the best are offered beside it.
    pub suggest_ratio: f32,
    pub max_suggestions: usize,
    /// How much a word the FAQ does not know weighs, as a share of the rarest known word.
    pub unknown_weight: f32,
    /// BM25's term-frequency saturation and length normalisation.
    pub bm25_k1: f32,
    pub bm25_b: f32,
    pub stopwords: Vec<String>,
    /// Groups of words and phrases that mean the same thing.
    pub synonyms: Vec<Vec<String>>,
    /// Danger happening now: answered with "call 110" and passed to the duty officers at once.
    pub emergency: Vec<Regex>,
}

#[derive(Debug, Clone)]
pub struct Tip {
    pub id: String,
    pub suit: String,
    pub text: Text,
}

/// Everything in bot-scripts, checked.
#[derive(Debug, Clone)]
pub struct Scripts {
    pub settings: Settings,
    pub forms: Vec<Form>,
    pub faq: Vec<Faq>,
    pub out_of_scope: Vec<OutOfScope>,
    pub matching: Matching,
    pub suits: BTreeMap<String, Text>,
    pub tips: Vec<Tip>,
    pub templates: Templates,
    pub schedules: super::Schedules,
    pub index: super::IndexRules,
}

impl Scripts {
    pub fn form(&self, kind: ReportKind) -> &Form {
        self.forms
            .iter()
            .find(|f| f.kind == kind)
            .expect("the checker guarantees one form per report kind")
    }
}
