//! Matching residents' questions to FAQ entries, in both languages: the analyzer (words), the
//! index (BM25 and the calibrated decision), danger-now detection, and the evaluation that holds
//! the calibration to account. Pure code: no database, no platform.

mod analyzer;
pub mod eval;
pub mod index;

use std::sync::Arc;

pub use analyzer::Analyzer;
pub use index::{Decision, Entry, FaqIndex, Scored, Scores, decide_with};

use crate::scripts::Scripts;

/// The id danger-now questions are reported under.
pub const EMERGENCY_ID: &str = "emergency-110";

/// bot-scripts' FAQ as index entries (question, examples and keywords of both languages), and
/// the not-police topics beside them.
pub fn script_entries(scripts: &Scripts) -> Vec<Entry> {
    scripts
        .faq
        .iter()
        .map(|f| {
            let mut texts = vec![f.question.zh.clone(), f.question.en.clone()];
            texts.extend(f.examples_zh.iter().chain(&f.examples_en).cloned());
            let keywords: Vec<&str> = f.keywords_zh.iter().chain(&f.keywords_en).map(String::as_str).collect();
            if !keywords.is_empty() {
                texts.push(keywords.join(" "));
            }
            Entry {
                id: f.id.clone(),
                texts,
                out_of_scope: false,
            }
        })
        .chain(scripts.out_of_scope.iter().map(|t| Entry {
            id: t.id.clone(),
            texts: t.examples_zh.iter().chain(&t.examples_en).cloned().collect(),
            out_of_scope: true,
        }))
        .collect()
}

/// The analyzer for these scripts: their keywords and synonyms are jieba dictionary words.
pub fn analyzer(scripts: &Scripts) -> Arc<Analyzer> {
    let words: Vec<&str> = scripts
        .faq
        .iter()
        .flat_map(|f| f.keywords_zh.iter())
        .map(String::as_str)
        .collect();
    Arc::new(Analyzer::new(&scripts.matching, &words))
}

/// The shared FAQ index of these scripts.
pub fn index(scripts: &Scripts) -> Arc<FaqIndex> {
    Arc::new(FaqIndex::build(
        analyzer(scripts),
        scripts.matching.clone(),
        script_entries(scripts),
    ))
}

/// What the bot does with a question: danger first, then the FAQ.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub answered: bool,
    /// The entry answered with (`None` when nothing is answered).
    pub id: Option<String>,
    /// The best entry and its score, answered or not.
    pub best: Option<Scored>,
    pub coverage: f32,
    pub runner_up: Option<Scored>,
    pub suggestions: Vec<String>,
    pub emergency: bool,
    /// The best match is this not-police topic: nothing is answered from the FAQ.
    pub out_of_scope: Option<String>,
}

impl FaqIndex {
    /// Danger happening now (bot-scripts' `emergency` patterns, read on simplified lower-case text).
    pub fn is_emergency(&self, question: &str) -> bool {
        let text = fast2s::convert(&question.to_lowercase());
        self.matching().emergency.iter().any(|re| re.is_match(&text))
    }

    pub fn verdict(&self, question: &str) -> Verdict {
        if self.is_emergency(question) {
            return Verdict {
                answered: true,
                id: Some(EMERGENCY_ID.to_owned()),
                best: None,
                coverage: 1.0,
                runner_up: None,
                suggestions: Vec::new(),
                emergency: true,
                out_of_scope: None,
            };
        }
        let d = self.decide(question);
        Verdict {
            answered: d.answer.is_some(),
            id: d.answer.clone(),
            best: d.best,
            coverage: d.coverage,
            runner_up: d.runner_up,
            suggestions: d.suggestions,
            emergency: false,
            out_of_scope: d.out_of_scope,
        }
    }
}
