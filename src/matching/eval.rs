//! `beatbot faq eval FILE.tsv`: questions with the entry that should answer them (`id<TAB>question`,
//! `-` for a question that is not police business), run through the index, counted, and held to
//! the targets: ≥ 95 % of in-scope questions answered right, ≤ 2 % wrong, ≥ 95 % of
//! off-topic ones not answered from the FAQ.

use std::fmt::Write as _;

use super::FaqIndex;

pub const MIN_RIGHT: f64 = 0.95;
pub const MAX_WRONG: f64 = 0.02;
pub const MIN_OFF_TOPIC_HELD: f64 = 0.95;

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub line: usize,
    /// `None` for off-topic.
    pub id: Option<String>,
    pub question: String,
}

/// Reads `id<TAB>question` lines; `#` comments and blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, question)) = line.split_once('\t') else {
            return Err(format!("line {line_no}: expected `id<TAB>question`"));
        };
        let (id, question) = (id.trim(), question.trim());
        if id.is_empty() || question.is_empty() {
            return Err(format!("line {line_no}: empty id or question"));
        }
        cases.push(Case {
            line: line_no,
            id: (id != "-").then(|| id.to_owned()),
            question: question.to_owned(),
        });
    }
    Ok(cases)
}

/// Whether `answered` is the entry `expected` asks for (a finer `TOPIC/SUB` entry counts).
pub fn is_right(expected: &str, answered: &str) -> bool {
    answered == expected
        || answered
            .strip_prefix(expected)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Right,
    Wrong(String),
    /// Not answered; the entries offered as "Did you mean", if any.
    HandedOver(Vec<String>),
    OffTopicHeld,
    OffTopicAnswered(String),
}

impl Outcome {
    /// What answering `answered` (or nothing) to `case` counts as; `offered` are the "Did you
    /// mean" entries of a question not answered.
    fn of(case: &Case, answered: Option<String>, offered: &[String]) -> Outcome {
        match (&case.id, answered) {
            (Some(expected), Some(id)) if is_right(expected, &id) => Outcome::Right,
            (Some(_), Some(id)) => Outcome::Wrong(id),
            (Some(_), None) => Outcome::HandedOver(offered.to_vec()),
            (None, None) => Outcome::OffTopicHeld,
            (None, Some(id)) => Outcome::OffTopicAnswered(id),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub in_scope: usize,
    pub right: usize,
    pub wrong: usize,
    pub handed_over: usize,
    /// Handed over with the right entry among the "Did you mean" buttons.
    pub suggested_right: usize,
    pub off_topic: usize,
    pub off_topic_held: usize,
    /// Off-topic questions met with "Did you mean" buttons (not an answer, but a nuisance).
    pub off_topic_offered: usize,
    pub misses: Vec<(Case, Outcome)>,
}

impl Report {
    fn ratio(n: usize, of: usize) -> f64 {
        if of == 0 { 1.0 } else { n as f64 / of as f64 }
    }
    pub fn right_ratio(&self) -> f64 {
        Report::ratio(self.right, self.in_scope)
    }
    pub fn wrong_ratio(&self) -> f64 {
        Report::ratio(self.wrong, self.in_scope)
    }
    pub fn held_ratio(&self) -> f64 {
        Report::ratio(self.off_topic_held, self.off_topic)
    }
    pub fn passes(&self) -> bool {
        self.right_ratio() >= MIN_RIGHT && self.wrong_ratio() <= MAX_WRONG && self.held_ratio() >= MIN_OFF_TOPIC_HELD
    }

    /// The figures, then every miss.
    pub fn render(&self) -> String {
        let pct = |r: f64| format!("{:.1} %", r * 100.0);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "in scope: {}  right: {} ({})  wrong: {} ({})  handed over: {} ({} with the right entry offered)",
            self.in_scope,
            self.right,
            pct(self.right_ratio()),
            self.wrong,
            pct(self.wrong_ratio()),
            self.handed_over,
            self.suggested_right
        );
        let _ = writeln!(
            s,
            "off topic: {}  not answered: {} ({}; {} of them offered \"Did you mean\")",
            self.off_topic,
            self.off_topic_held,
            pct(self.held_ratio()),
            self.off_topic_offered
        );
        let _ = writeln!(
            s,
            "targets: right >= {}, wrong <= {}, off topic not answered >= {}: {}",
            pct(MIN_RIGHT),
            pct(MAX_WRONG),
            pct(MIN_OFF_TOPIC_HELD),
            if self.passes() { "met" } else { "NOT MET" }
        );
        for (case, outcome) in &self.misses {
            let expected = case.id.as_deref().unwrap_or("-");
            let what = match outcome {
                Outcome::Wrong(id) => format!("wrong: answered {id}"),
                Outcome::HandedOver(offered) if offered.is_empty() => "handed over".to_owned(),
                Outcome::HandedOver(offered) => format!("handed over, offered {}", offered.join(", ")),
                Outcome::OffTopicAnswered(id) => format!("off topic answered with {id}"),
                Outcome::Right | Outcome::OffTopicHeld => continue,
            };
            let _ = writeln!(s, "line {}: [{expected}] {}  → {what}", case.line, case.question);
        }
        s
    }
}

/// Runs every case through the index.
pub fn run(index: &FaqIndex, cases: &[Case]) -> Report {
    let mut report = Report::default();
    for case in cases {
        let v = index.verdict(&case.question);
        let answered = v.answered.then(|| v.id.clone().unwrap_or_default());
        let outcome = Outcome::of(case, answered, &v.suggestions);
        match (&outcome, &case.id) {
            (Outcome::Right, _) => report.right += 1,
            (Outcome::Wrong(_), _) => report.wrong += 1,
            (Outcome::HandedOver(offered), Some(expected)) => {
                report.handed_over += 1;
                if offered.iter().any(|o| is_right(expected, o)) {
                    report.suggested_right += 1;
                }
            }
            (Outcome::OffTopicHeld, _) => {
                report.off_topic_held += 1;
                if !v.suggestions.is_empty() {
                    report.off_topic_offered += 1;
                }
            }
            _ => {}
        }
        if case.id.is_some() {
            report.in_scope += 1;
        } else {
            report.off_topic += 1;
        }
        if !matches!(outcome, Outcome::Right | Outcome::OffTopicHeld) {
            report.misses.push((case.clone(), outcome));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finer_entry_counts_for_its_topic_and_only_for_it() {
        assert!(is_right("household-registration", "household-registration/newborn"));
        assert!(is_right("passport", "passport"));
        assert!(!is_right("id-card", "id-card-lost"));
        assert!(!is_right("passport", "household-registration"));
    }

    #[test]
    fn tsv_lines_parse_and_bad_ones_are_named() {
        let cases = parse("# c\npassport\thow long for a passport\n-\tweather?\n").unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].id.as_deref(), Some("passport"));
        assert_eq!(cases[1].id, None);
        assert_eq!(cases[1].line, 3);
        assert!(parse("passport how long").unwrap_err().contains("line 1"));
    }
}

/// Thresholds tried by [`sweep`], and what they give on a set.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub answer_coverage: f32,
    pub margin: f32,
    pub min_score: f32,
    pub right: f64,
    pub wrong: f64,
    pub held: f64,
}

/// Calibration: every combination of answer coverage, margin and least score on a grid, the
/// ones within the wrong-answer and off-topic targets first, most right answers first.
pub fn sweep(index: &FaqIndex, cases: &[Case]) -> Vec<Trial> {
    let scored: Vec<(&Case, bool, super::index::Scores)> = cases
        .iter()
        .map(|c| (c, index.is_emergency(&c.question), index.scores(&c.question)))
        .collect();
    let in_scope = cases.iter().filter(|c| c.id.is_some()).count().max(1) as f64;
    let off_topic = cases.iter().filter(|c| c.id.is_none()).count().max(1) as f64;
    let mut trials = Vec::new();
    for cov in (0..=19).map(|i| i as f32 * 0.05) {
        for margin in (0..=10).map(|i| i as f32 * 0.05) {
            for min_score in (0..=12).map(|i| i as f32) {
                let mut m = index.matching().clone();
                m.answer_coverage = cov;
                m.margin = margin;
                m.min_score = min_score;
                let (mut right, mut wrong, mut held) = (0, 0, 0);
                for (case, emergency, scores) in &scored {
                    let answered = if *emergency {
                        Some(super::EMERGENCY_ID.to_owned())
                    } else {
                        super::index::decide_with(&m, scores).answer
                    };
                    match Outcome::of(case, answered, &[]) {
                        Outcome::Right => right += 1,
                        Outcome::Wrong(_) => wrong += 1,
                        Outcome::OffTopicHeld => held += 1,
                        Outcome::HandedOver(_) | Outcome::OffTopicAnswered(_) => {}
                    }
                }
                trials.push(Trial {
                    answer_coverage: cov,
                    margin,
                    min_score,
                    right: right as f64 / in_scope,
                    wrong: wrong as f64 / in_scope,
                    held: held as f64 / off_topic,
                });
            }
        }
    }
    let within = |t: &Trial| t.wrong <= MAX_WRONG && t.held >= MIN_OFF_TOPIC_HELD;
    trials.sort_by(|a, b| {
        within(b)
            .cmp(&within(a))
            .then(b.right.total_cmp(&a.right))
            .then(a.wrong.total_cmp(&b.wrong))
    });
    trials
}
