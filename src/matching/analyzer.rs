//! Turns a resident's text into the words the FAQ index compares: traditional Chinese read as
//! simplified, lower case, Chinese cut into words by jieba (a long word also carries its parts,
//! as jieba's search mode cuts them: 工作人员 → 工作, 人员), English words stemmed (Snowball),
//! synonyms from bot-scripts replaced by one token per group (开房 = 入住 = check in), stop
//! words dropped.
//!
//! Chinese and English share one token stream, so a question in one language meets an entry's
//! examples in the other wherever a synonym group spans both.

use std::collections::{HashMap, HashSet};

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};

use crate::scripts::Matching;

/// One word of a text, with the shorter words inside a long Chinese word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub token: String,
    pub parts: Vec<String>,
}

/// Words and their parts as one token list.
pub fn flatten(words: &[Word]) -> Vec<String> {
    words
        .iter()
        .flat_map(|w| std::iter::once(&w.token).chain(&w.parts))
        .cloned()
        .collect()
}

/// The longest synonym phrase, in tokens.
const MAX_PHRASE: usize = 5;

pub struct Analyzer {
    jieba: Jieba,
    stemmer: Stemmer,
    /// A phrase's tokens → the token standing for its whole group.
    synonyms: HashMap<Vec<String>, String>,
    stop: HashSet<String>,
}

/// jieba's own dictionary cut to its 20,000 most frequent words (of 349,046): the whole one
/// costs 33 MB of memory, this one about 2 MB, and the FAQ evaluation sets stay within their
/// targets (eval.tsv 430 of 450 right against 432, holdout.tsv 145 of 150 against 146; see
/// docs/faq-matching.md). The 50,000 most frequent did no better (429 and 146).
/// The scripts' keywords and synonyms are added to it, so they always come out whole.
const DICTIONARY: &str = include_str!("jieba_dict_20k.txt");

fn dictionary() -> Jieba {
    Jieba::with_dict(&mut DICTIONARY.as_bytes()).expect("the embedded dictionary is well formed")
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

impl Analyzer {
    /// Builds the analyzer; `words` are extra dictionary words for jieba (keywords, synonyms),
    /// so that they come out whole.
    pub fn new(matching: &Matching, words: &[&str]) -> Analyzer {
        let mut jieba = dictionary();
        let mut analyzer = Analyzer {
            jieba: Jieba::empty(),
            stemmer: Stemmer::create(Algorithm::English),
            synonyms: HashMap::new(),
            stop: HashSet::new(),
        };
        let group_words = matching.synonyms.iter().flatten().map(String::as_str);
        for w in words.iter().copied().chain(group_words) {
            let w = fast2s::convert(&w.to_lowercase());
            if w.chars().count() > 1 && w.chars().all(is_han) {
                jieba.add_word(&w, Some(20_000), None);
            }
        }
        analyzer.jieba = jieba;
        for (n, group) in matching.synonyms.iter().enumerate() {
            let token = format!("≈{n}");
            for word in group {
                let raw = analyzer.raw_tokens(word);
                if !raw.is_empty() && raw.len() <= MAX_PHRASE {
                    analyzer.synonyms.insert(raw, token.clone());
                }
            }
        }
        for word in &matching.stopwords {
            for t in analyzer.raw_tokens(word) {
                analyzer.stop.insert(t);
            }
        }
        analyzer
    }

    /// Normalised, segmented and stemmed, before synonyms and stop words.
    fn raw_tokens(&self, text: &str) -> Vec<String> {
        let text = fast2s::convert(&text.to_lowercase());
        let mut out = Vec::new();
        let mut han = String::new();
        let mut word = String::new();
        let flush_word = |word: &mut String, out: &mut Vec<String>| {
            if !word.is_empty() {
                out.push(self.stemmer.stem(word).into_owned());
                word.clear();
            }
        };
        let flush_han = |han: &mut String, out: &mut Vec<String>| {
            if !han.is_empty() {
                for t in self.jieba.cut(han, false) {
                    out.push(t.word.to_owned());
                }
                han.clear();
            }
        };
        for c in text.chars() {
            if is_han(c) {
                flush_word(&mut word, &mut out);
                han.push(c);
            } else if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
                flush_han(&mut han, &mut out);
                if c != '\'' {
                    word.push(c);
                }
            } else {
                flush_word(&mut word, &mut out);
                flush_han(&mut han, &mut out);
            }
        }
        flush_word(&mut word, &mut out);
        flush_han(&mut han, &mut out);
        out
    }

    /// The tokens the index compares: each word and its parts, flat.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        flatten(&self.words(text))
    }

    /// The words of a text, after synonyms and stop words.
    pub fn words(&self, text: &str) -> Vec<Word> {
        let raw = self.raw_tokens(text);
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let longest = (1..=MAX_PHRASE.min(raw.len() - i))
                .rev()
                .find_map(|n| self.synonyms.get(&raw[i..i + n]).map(|t| (n, t)));
            match longest {
                Some((n, token)) => {
                    out.push(Word {
                        token: token.clone(),
                        parts: Vec::new(),
                    });
                    i += n;
                }
                None => {
                    let token = &raw[i];
                    if !self.stop.contains(token) {
                        out.push(Word {
                            token: token.clone(),
                            parts: self.parts(token),
                        });
                    }
                    i += 1;
                }
            }
        }
        out
    }

    /// The shorter words jieba finds inside a long Chinese word (synonyms applied, stop words out).
    fn parts(&self, token: &str) -> Vec<String> {
        if token.chars().count() < 3 || !token.chars().all(is_han) {
            return Vec::new();
        }
        self.jieba
            .cut_for_search(token, false)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| *w != token && !self.stop.contains(*w))
            .map(|w| {
                self.synonyms
                    .get(&[w.to_owned()][..])
                    .cloned()
                    .unwrap_or_else(|| w.to_owned())
            })
            .collect()
    }

    /// The group token a word belongs to, if any.
    #[cfg(test)]
    fn group_of(&self, word: &str) -> Option<&str> {
        self.synonyms.get(&self.raw_tokens(word)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching() -> Matching {
        Matching {
            synonyms: vec![
                vec!["开房".into(), "入住".into(), "check in".into()],
                vec!["身份证".into(), "id card".into(), "identity card".into()],
            ],
            stopwords: vec!["怎么".into(), "the".into(), "how".into(), "do".into(), "i".into()],
            ..Matching::default()
        }
    }

    #[test]
    fn synonyms_in_both_languages_become_one_token() {
        let a = Analyzer::new(&matching(), &[]);
        let zh = a.tokens("没有身份证怎么开房");
        let en = a.tokens("How do I check in without the ID card?");
        assert!(zh.contains(&"≈0".to_owned()) && zh.contains(&"≈1".to_owned()), "{zh:?}");
        assert!(en.contains(&"≈0".to_owned()) && en.contains(&"≈1".to_owned()), "{en:?}");
        assert!(!en.iter().any(|t| t == "how" || t == "the"), "{en:?}");
    }

    #[test]
    fn traditional_characters_read_as_simplified_and_english_is_stemmed() {
        let a = Analyzer::new(&matching(), &[]);
        assert_eq!(a.tokens("身份證"), a.tokens("身份证"));
        assert_eq!(a.tokens("registering"), a.tokens("registered"));
        assert_eq!(a.tokens("passports"), vec!["passport".to_owned()]);
        assert_eq!(a.group_of("Identity Card"), Some("≈1"));
    }

    #[test]
    fn mixed_text_keeps_both_scripts() {
        let a = Analyzer::new(&matching(), &[]);
        let t = a.tokens("我的ID card丢了");
        assert!(t.contains(&"≈1".to_owned()), "{t:?}");
        assert!(t.iter().any(|w| w.contains('丢')), "{t:?}");
    }
}
