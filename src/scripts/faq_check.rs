//! Loading and checking the FAQ (`faq.toml`), how questions are matched (`matching.toml`) and
//! the synonym list (`synonyms.toml`): duplicate ids, entries without examples in both
//! languages, unknown station-fact placeholders, a word in two synonym groups, bad thresholds
//! and danger patterns — each reported with its file and line.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::check::{RawText, ScriptError, open};
use super::model::{Faq, Matching, OutOfScope};
use super::templates::placeholders;

/// The station facts an answer may name as `{station.KEY}`; an unset one's line is left out.
pub const STATION_FACTS: &[&str] = &["name", "address", "phone", "hours", "household_hours"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaqFile {
    #[serde(default)]
    faq: Vec<RawFaq>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaq {
    id: Spanned<String>,
    question: Spanned<RawText>,
    answer: Spanned<RawText>,
    examples: Option<Spanned<RawList>>,
    keywords: Spanned<RawList>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    #[serde(default)]
    zh: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutOfScopeFile {
    #[serde(default)]
    topic: Vec<RawTopic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    id: Spanned<String>,
    examples: Spanned<RawList>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatching {
    answer_coverage: Spanned<f32>,
    margin: Spanned<f32>,
    min_score: Spanned<f32>,
    suggest_coverage: Spanned<f32>,
    suggest_min_score: Spanned<f32>,
    suggest_ratio: Spanned<f32>,
    max_suggestions: Spanned<i64>,
    unknown_weight: Spanned<f32>,
    bm25_k1: Spanned<f32>,
    bm25_b: Spanned<f32>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    emergency: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSynonyms {
    #[serde(default)]
    synonyms: Vec<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    words: Spanned<Vec<String>>,
}

fn clean(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|k| k.trim().to_lowercase())
        .filter(|k| !k.is_empty())
        .collect()
}

pub(super) fn load_faq(dir: &Path, errors: &mut Vec<ScriptError>) -> Vec<Faq> {
    let Some(mut src) = open(dir, "faq.toml", errors) else {
        return Vec::new();
    };
    let Some(raw) = src.parse::<RawFaqFile>() else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for rf in &raw.faq {
        let id = rf.id.get_ref().clone();
        let at = rf.id.span().start;
        if !seen.insert(id.clone()) {
            src.error(at, format!("duplicate id: faq `{id}`"));
        }
        let question = src.text(&rf.question, &format!("faq `{id}` question"));
        let answer = src.text(&rf.answer, &format!("faq `{id}` answer"));
        for name in placeholders(&answer.zh).iter().chain(&placeholders(&answer.en)) {
            let known = name
                .strip_prefix("station.")
                .is_some_and(|k| STATION_FACTS.contains(&k));
            if !known {
                let list = STATION_FACTS
                    .iter()
                    .map(|k| format!("{{station.{k}}}"))
                    .collect::<Vec<_>>();
                src.error(
                    rf.answer.span().start,
                    format!(
                        "faq `{id}` answer: unknown placeholder {{{name}}} (known: {})",
                        list.join(", ")
                    ),
                );
            }
        }
        let kw = rf.keywords.get_ref();
        for (list, code) in [(&kw.zh, "zh"), (&kw.en, "en")] {
            if clean(list).is_empty() {
                src.error(
                    rf.keywords.span().start,
                    format!("missing translation: faq `{id}` has no `{code}` keywords"),
                );
            }
        }
        let (examples_zh, examples_en) = match &rf.examples {
            Some(ex) => (clean(&ex.get_ref().zh), clean(&ex.get_ref().en)),
            None => (Vec::new(), Vec::new()),
        };
        for (list, code) in [(&examples_zh, "zh"), (&examples_en, "en")] {
            if list.is_empty() {
                let at = rf.examples.as_ref().map(|e| e.span().start).unwrap_or(at);
                src.error(
                    at,
                    format!("faq `{id}` has no `{code}` examples (write how residents ask it)"),
                );
            }
        }
        entries.push(Faq {
            id,
            question,
            answer,
            keywords_zh: clean(&kw.zh),
            keywords_en: clean(&kw.en),
            examples_zh,
            examples_en,
        });
    }
    entries
}

/// `out-of-scope.toml`: not-police topics, each with examples in both languages, ids apart from
/// the FAQ's.
pub(super) fn load_out_of_scope(dir: &Path, faq: &[Faq], errors: &mut Vec<ScriptError>) -> Vec<OutOfScope> {
    let Some(mut src) = open(dir, "out-of-scope.toml", errors) else {
        return Vec::new();
    };
    let Some(raw) = src.parse::<RawOutOfScopeFile>() else {
        return Vec::new();
    };
    let mut seen: HashSet<String> = faq.iter().map(|f| f.id.clone()).collect();
    let mut topics = Vec::new();
    for t in &raw.topic {
        let id = t.id.get_ref().clone();
        if !seen.insert(id.clone()) {
            src.error(
                t.id.span().start,
                format!("duplicate id: out-of-scope topic `{id}` (ids are shared with faq.toml)"),
            );
        }
        let ex = t.examples.get_ref();
        let (zh, en) = (clean(&ex.zh), clean(&ex.en));
        for (list, code) in [(&zh, "zh"), (&en, "en")] {
            if list.is_empty() {
                src.error(
                    t.examples.span().start,
                    format!("out-of-scope topic `{id}` has no `{code}` examples"),
                );
            }
        }
        topics.push(OutOfScope {
            id,
            examples_zh: zh,
            examples_en: en,
        });
    }
    topics
}

pub(super) fn load_matching(dir: &Path, errors: &mut Vec<ScriptError>) -> Matching {
    let synonyms = load_synonyms(dir, errors);
    let Some(mut src) = open(dir, "matching.toml", errors) else {
        return Matching::default();
    };
    let Some(raw) = src.parse::<RawMatching>() else {
        return Matching::default();
    };
    for (value, name) in [
        (&raw.answer_coverage, "answer_coverage"),
        (&raw.margin, "margin"),
        (&raw.suggest_coverage, "suggest_coverage"),
        (&raw.suggest_ratio, "suggest_ratio"),
        (&raw.unknown_weight, "unknown_weight"),
        (&raw.bm25_b, "bm25_b"),
    ] {
        if !(0.0..=1.0).contains(value.get_ref()) {
            src.error(value.span().start, format!("`{name}` must be between 0 and 1"));
        }
    }
    if !(0.1..=10.0).contains(raw.bm25_k1.get_ref()) {
        src.error(raw.bm25_k1.span().start, "`bm25_k1` must be between 0.1 and 10");
    }
    if *raw.min_score.get_ref() < 0.0 {
        src.error(raw.min_score.span().start, "`min_score` must not be negative");
    }
    if raw.suggest_min_score.get_ref() < &0.0 || raw.suggest_min_score.get_ref() > raw.min_score.get_ref() {
        src.error(
            raw.suggest_min_score.span().start,
            "`suggest_min_score` must be between 0 and `min_score`",
        );
    }
    if !(1..=5).contains(raw.max_suggestions.get_ref()) {
        src.error(raw.max_suggestions.span().start, "`max_suggestions` must be 1 to 5");
    }
    let mut emergency = Vec::new();
    for pattern in &raw.emergency {
        match Regex::new(&format!("(?i){}", pattern.get_ref())) {
            Ok(re) => emergency.push(re),
            Err(e) => src.error(pattern.span().start, format!("bad emergency pattern: {e}")),
        }
    }
    Matching {
        answer_coverage: *raw.answer_coverage.get_ref(),
        margin: *raw.margin.get_ref(),
        min_score: *raw.min_score.get_ref(),
        suggest_coverage: *raw.suggest_coverage.get_ref(),
        suggest_min_score: *raw.suggest_min_score.get_ref(),
        suggest_ratio: *raw.suggest_ratio.get_ref(),
        max_suggestions: (*raw.max_suggestions.get_ref()).clamp(1, 5) as usize,
        unknown_weight: *raw.unknown_weight.get_ref(),
        bm25_k1: *raw.bm25_k1.get_ref(),
        bm25_b: *raw.bm25_b.get_ref(),
        stopwords: clean(&raw.stopwords),
        synonyms,
        emergency,
    }
}

/// A word as the matcher reads it: traditional Chinese as simplified, English words stemmed
/// ("scammed" and "scam" are one word to it).
fn matcher_key(stemmer: &rust_stemmers::Stemmer, word: &str) -> String {
    fast2s::convert(word)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.is_ascii() {
                stemmer.stem(w).into_owned()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn load_synonyms(dir: &Path, errors: &mut Vec<ScriptError>) -> Vec<Vec<String>> {
    let Some(mut src) = open(dir, "synonyms.toml", errors) else {
        return Vec::new();
    };
    let Some(raw) = src.parse::<RawSynonyms>() else {
        return Vec::new();
    };
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut groups = Vec::new();
    for (n, group) in raw.synonyms.iter().enumerate() {
        let words = clean(group.words.get_ref());
        let at = group.words.span().start;
        if words.len() < 2 {
            src.error(at, "a synonym group needs at least two words");
        }
        for w in &words {
            let key = matcher_key(&stemmer, w);
            match group_of.get(&key) {
                Some(&other) if other != n => {
                    let line = src.line_of(raw.synonyms[other].words.span().start);
                    src.error(
                        at,
                        format!("`{w}` is in two synonym groups (to the matcher; also the group on line {line})"),
                    );
                }
                // The same word again, or its traditional spelling: harmless.
                Some(_) => {}
                None => {
                    group_of.insert(key, n);
                }
            }
        }
        groups.push(words);
    }
    groups
}
