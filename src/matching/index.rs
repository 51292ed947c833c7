//! The FAQ index: every entry's question, examples (both languages) and keywords as BM25
//! documents (the `bm25` crate), an entry scored by its best document, and the decision bot-scripts
//! calibrate — answer, offer the close ones as "Did you mean", or hand over to an officer.
//!
//! BM25 ranks; it cannot tell a question the FAQ does not cover from one it covers with rare
//! words. The confidence beside it is *coverage*: how much of the question (its words weighted
//! by their IDF, unknown words weighing most) the best entry's vocabulary explains. "How do I
//! cook rice" shares "how" with every entry and nothing else, so it is handed over.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bm25::{Embedder, EmbedderBuilder, Scorer, Tokenizer};

use super::Analyzer;
use super::analyzer::{Word, flatten};
use crate::scripts::Matching;

/// One entry the index can answer with (bot-scripts' FAQ or a station's own).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    /// The texts that stand for it: question, examples, keywords.
    pub texts: Vec<String>,
    /// Not police business (`out-of-scope.toml`): matching it best means answering nothing.
    pub out_of_scope: bool,
}

/// What the index would do with a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The entry to answer with, when one is clearly best.
    pub answer: Option<String>,
    pub best: Option<Scored>,
    pub runner_up: Option<Scored>,
    /// Close entries to offer when none is clearly best.
    pub suggestions: Vec<String>,
    /// How much of the question the best entry explains (0..1).
    pub coverage: f32,
    /// The best match is a not-police topic (its id).
    pub out_of_scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub id: String,
    pub score: f32,
    pub out_of_scope: bool,
}

/// Documents arrive at the embedder already analysed: tokens joined by spaces.
#[derive(Default, Clone, Copy)]
struct Pretokenized;

impl Tokenizer for Pretokenized {
    fn tokenize(&self, input_text: &str) -> Vec<String> {
        input_text
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

pub struct FaqIndex {
    analyzer: Arc<Analyzer>,
    matching: Matching,
    entries: Vec<Entry>,
    /// Entry n's document (its tokens joined by spaces) is document n.
    docs: Vec<String>,
    embedder: Embedder<u32, Pretokenized>,
    scorer: Scorer<usize, u32>,
    /// Per entry: every token of its document.
    vocab: Vec<HashSet<String>>,
    /// Token → how many documents hold it.
    df: HashMap<String, usize>,
    /// For typo repair: a vocabulary word with one letter deleted → the word.
    deletions: HashMap<String, String>,
}

impl FaqIndex {
    pub fn build(analyzer: Arc<Analyzer>, matching: Matching, entries: Vec<Entry>) -> FaqIndex {
        let docs = entries.iter().map(|e| document(&analyzer, e)).collect();
        FaqIndex::from_docs(analyzer, matching, entries, docs)
    }

    /// This index with more entries beside it (a station's own), reusing the analysed documents.
    pub fn extended(&self, extra: Vec<Entry>) -> FaqIndex {
        let mut docs = self.docs.clone();
        docs.extend(extra.iter().map(|e| document(&self.analyzer, e)));
        let mut entries = self.entries.clone();
        entries.extend(extra);
        FaqIndex::from_docs(self.analyzer.clone(), self.matching.clone(), entries, docs)
    }

    fn from_docs(analyzer: Arc<Analyzer>, matching: Matching, entries: Vec<Entry>, docs: Vec<String>) -> FaqIndex {
        let corpus: Vec<&str> = docs.iter().map(String::as_str).collect();
        let embedder = EmbedderBuilder::<u32, Pretokenized>::with_tokenizer_and_fit_to_corpus(Pretokenized, &corpus)
            .k1(matching.bm25_k1)
            .b(matching.bm25_b)
            .build();
        let mut scorer = Scorer::new();
        let mut df: HashMap<String, usize> = HashMap::new();
        let mut vocab = Vec::with_capacity(docs.len());
        for (n, text) in docs.iter().enumerate() {
            scorer.upsert(&n, embedder.embed(text));
            let unique: HashSet<String> = text.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
            for t in &unique {
                *df.entry(t.clone()).or_default() += 1;
            }
            vocab.push(unique);
        }
        // In sorted order, so that where two words share a deletion ("house", "horse" → "hose")
        // every process repairs a typo the same way.
        let mut words: Vec<&String> = df
            .keys()
            .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .collect();
        words.sort();
        let mut deletions = HashMap::new();
        for word in words {
            for d in deletions_of(word) {
                deletions.entry(d).or_insert_with(|| word.clone());
            }
        }
        FaqIndex {
            analyzer,
            matching,
            entries,
            docs,
            embedder,
            scorer,
            vocab,
            df,
            deletions,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    pub fn matching(&self) -> &Matching {
        &self.matching
    }

    /// The question's words, with an English word the FAQ does not know read as the known word
    /// one letter away from it ("pasport" → "passport"), and numbers the FAQ does not know
    /// dropped (an age, an amount, a date say nothing of the topic).
    pub fn query_words(&self, question: &str) -> Vec<Word> {
        let mut words = self.analyzer.words(question);
        words.retain(|w| self.df.contains_key(&w.token) || !w.token.chars().all(|c| c.is_ascii_digit()));
        for w in &mut words {
            let t = &w.token;
            if self.df.contains_key(t.as_str()) || t.len() < 4 || !t.chars().all(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            // A letter left out ("pasport"), one too many ("passsport"), or two swapped
            // ("paspsort"); not a letter changed, which turns "river" into "rider".
            let repaired = self.deletions.get(t.as_str()).cloned().or_else(|| {
                deletions_of(t).find_map(|d| {
                    if self.df.contains_key(&d) {
                        Some(d)
                    } else {
                        self.deletions.get(&d).filter(|w| is_transposition(t, w)).cloned()
                    }
                })
            });
            if let Some(r) = repaired {
                w.token = r;
            }
        }
        words
    }

    /// The question's tokens as the index reads them (words and their parts).
    pub fn query_tokens(&self, question: &str) -> Vec<String> {
        flatten(&self.query_words(question))
    }

    /// How much a word of the question tells: its IDF; a word the FAQ does not know at all
    /// counts `unknown_weight` of the IDF a word in no entry would have.
    fn weight(&self, w: &Word) -> f32 {
        if self.df.contains_key(&w.token) {
            return self.idf(&w.token);
        }
        let parts = w
            .parts
            .iter()
            .filter(|p| self.df.contains_key(p.as_str()))
            .map(|p| self.idf(p))
            .fold(None, |m: Option<f32>, x| Some(m.map_or(x, |m| m.max(x))));
        parts.unwrap_or_else(|| self.idf("") * self.matching.unknown_weight)
    }

    fn idf(&self, token: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.df.get(token).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Every entry that shares a word with `question`, best first, and how much of the question
    /// the best one explains.
    pub fn scores(&self, question: &str) -> Scores {
        let words = self.query_words(question);
        let tokens = flatten(&words);
        if tokens.is_empty() {
            return Scores::default();
        }
        let query = self.embedder.embed(&tokens.join(" "));
        let mut ranked: Vec<(usize, f32)> = self
            .scorer
            .matches(&query)
            .into_iter()
            .map(|m| (m.id, m.score))
            .collect();
        // Ties in entry order, so every process ranks alike.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let Some(&(top, _)) = ranked.first() else {
            return Scores::default();
        };
        let mut seen = HashSet::new();
        let unique: Vec<&Word> = words.iter().filter(|w| seen.insert(w.token.as_str())).collect();
        let total: f32 = unique.iter().map(|w| self.weight(w)).sum();
        let vocab = &self.vocab[top];
        let covered: f32 = unique
            .iter()
            .filter(|w| vocab.contains(&w.token) || w.parts.iter().any(|p| vocab.contains(p)))
            .map(|w| self.weight(w))
            .sum();
        Scores {
            ranked: ranked
                .into_iter()
                .map(|(i, score)| Scored {
                    id: self.entries[i].id.clone(),
                    score,
                    out_of_scope: self.entries[i].out_of_scope,
                })
                .collect(),
            coverage: if total > 0.0 { covered / total } else { 0.0 },
        }
    }

    /// Scores every entry against `question` and decides with bot-scripts' thresholds.
    pub fn decide(&self, question: &str) -> Decision {
        decide_with(&self.matching, &self.scores(question))
    }
}

/// Entries ranked for one question (see [`FaqIndex::scores`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub ranked: Vec<Scored>,
    pub coverage: f32,
}

/// The decision thresholds `m` make of `scores`: answer when the best entry explains enough of
/// the question and clearly leads; offer the close ones when it explains some; else hand over.
pub fn decide_with(m: &Matching, scores: &Scores) -> Decision {
    let best = scores.ranked.first().cloned();
    let runner_up = scores.ranked.get(1).cloned();
    let mut d = Decision {
        answer: None,
        best: best.clone(),
        runner_up: runner_up.clone(),
        suggestions: Vec::new(),
        coverage: scores.coverage,
        out_of_scope: None,
    };
    let Some(best) = best else {
        return d;
    };
    if best.out_of_scope {
        d.out_of_scope = Some(best.id);
        return d;
    }
    let second = runner_up.map(|r| r.score).unwrap_or(0.0);
    let clear = best.score >= m.min_score && (best.score - second) / best.score >= m.margin;
    if clear && scores.coverage >= m.answer_coverage {
        d.answer = Some(best.id);
    } else if best.score >= m.suggest_min_score && scores.coverage >= m.suggest_coverage {
        d.suggestions = scores
            .ranked
            .iter()
            .take_while(|s| s.score >= best.score * m.suggest_ratio)
            .filter(|s| !s.out_of_scope)
            .take(m.max_suggestions.max(1))
            .map(|s| s.id.clone())
            .collect();
    }
    d
}

/// An entry as one BM25 document: the tokens of all its texts. One document per entry keeps a
/// topic's own words (passport, 护照) rare across the index, as they are across topics, however
/// many examples repeat them.
fn document(analyzer: &Analyzer, entry: &Entry) -> String {
    entry
        .texts
        .iter()
        .map(|t| analyzer.tokens(t).join(" "))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `a` and `b` differ by two neighbouring letters swapped.
fn is_transposition(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
}

/// `word` with each of its letters left out in turn.
fn deletions_of(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| format!("{}{}", &word[..i], &word[i + 1..]))
}
