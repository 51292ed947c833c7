//! The FAQ matching held to the targets on the project's evaluation sets (questions
//! written apart from faq.toml's examples, in both languages, with off-topic ones), and a check
//! that those sets are not copies of the examples.

use std::collections::HashSet;

use beatbot::matching::eval;

use crate::harness::{root, scripts};

fn normalise(text: &str) -> String {
    text.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect()
}

fn cases(file: &str) -> Vec<eval::Case> {
    let text = std::fs::read_to_string(root().join("tests/faq").join(file)).expect("evaluation set exists");
    eval::parse(&text).expect("evaluation set parses")
}

fn holds_the_targets(file: &str) {
    let (_, faq) = scripts();
    let cases = cases(file);
    let report = eval::run(faq.shared(), &cases);
    println!("{file}:\n{}", report.render());
    assert!(
        report.in_scope >= 90 && report.off_topic >= 20,
        "{file} is too small to measure"
    );
    assert!(report.passes(), "{file} misses the targets:\n{}", report.render());
}

#[test]
fn the_evaluation_set_is_answered_right_and_off_topic_questions_are_not_answered() {
    holds_the_targets("eval.tsv");
}

#[test]
fn the_held_out_set_written_apart_holds_the_same_targets() {
    holds_the_targets("holdout.tsv");
}

#[test]
fn the_second_held_out_set_of_first_time_questions_holds_the_same_targets() {
    holds_the_targets("holdout2.tsv");
}

#[test]
fn the_evaluation_set_is_large_and_covers_every_topic_in_both_languages() {
    let cases = cases("eval.tsv");
    let in_scope: Vec<_> = cases.iter().filter(|c| c.id.is_some()).collect();
    assert!(in_scope.len() >= 400, "{} in-scope questions", in_scope.len());
    assert!(cases.len() - in_scope.len() >= 80);
    let (scripts, _) = scripts();
    let has_cjk = |q: &str| q.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for topic in scripts.faq.iter().map(|f| f.id.split('/').next().unwrap_or(&f.id)) {
        if topic == "alerts-subscribe" {
            continue; // a topic beyond the list: residents rarely ask it
        }
        let of_topic: Vec<_> = in_scope.iter().filter(|c| c.id.as_deref() == Some(topic)).collect();
        assert!(
            of_topic.iter().any(|c| has_cjk(&c.question)),
            "{topic}: no Chinese question"
        );
        assert!(
            of_topic.iter().any(|c| !has_cjk(&c.question)),
            "{topic}: no English question"
        );
    }
}

#[test]
fn no_evaluation_question_is_one_of_the_faq_examples() {
    let (scripts, _) = scripts();
    let examples: HashSet<String> = scripts
        .faq
        .iter()
        .flat_map(|f| {
            f.examples_zh
                .iter()
                .chain(&f.examples_en)
                .chain([&f.question.zh, &f.question.en])
        })
        .map(|e| normalise(e))
        .collect();
    for file in ["eval.tsv", "holdout.tsv", "holdout2.tsv"] {
        let copied: Vec<_> = cases(file)
            .into_iter()
            .filter(|c| examples.contains(&normalise(&c.question)))
            .map(|c| format!("{file}:{}: {}", c.line, c.question))
            .collect();
        assert!(
            copied.is_empty(),
            "evaluation questions copied from faq.toml: {copied:#?}"
        );
    }
}

#[test]
fn danger_now_is_recognised_in_both_languages_and_questions_about_it_are_not() {
    let (_, faq) = scripts();
    let index = faq.shared();
    for danger in [
        "有人在撬我家门",
        "救命 他在打我",
        "楼下着火了 好多烟",
        "小区门口有人拿着刀",
        "我儿子刚刚在超市不见了",
        "someone is breaking into my neighbour's flat right now",
        "he is hitting me right now",
        "a man with a knife outside the school",
        "I'm being followed, someone is following me right now and I'm scared",
    ] {
        let v = index.verdict(danger);
        assert!(v.emergency && v.answered, "not recognised as danger now: {danger}");
        assert_eq!(v.id.as_deref(), Some("emergency-110"), "{danger}");
    }
    for calm in [
        "什么情况应该打110",
        "我的自行车上周被偷了怎么报案",
        "老公以前打过我，怎么申请人身安全保护令",
        "how do I report a burglary from last week",
        "what are the common scams right now",
        "my child lost his id card",
        "the fire extinguisher in our building is expired",
    ] {
        assert!(!index.verdict(calm).emergency, "a false alarm: {calm}");
    }
}
