//! The FAQ index: how long start-up spends building it (jieba's dictionary, the analyzer, the
//! BM25 index) for the shipped scripts and for 500 entries, and how long one question takes to
//! match, without the database.
//!
//! Run: `cargo bench --bench faq_index`. 500 entries are the shipped FAQ entries and
//! not-police topics repeated under new ids until there are 500, so the texts are realistic.

use std::time::{Duration, Instant};

use beatbot::matching::{self, Entry, FaqIndex};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"));
    let t = Instant::now();
    let scripts = beatbot::scripts::load(dir).map_err(|e| anyhow::anyhow!("bot-scripts invalid: {e:?}"))?;
    let load = t.elapsed();
    let shipped = matching::script_entries(&scripts);
    let mut five_hundred: Vec<Entry> = Vec::new();
    for round in 0.. {
        for e in &shipped {
            if five_hundred.len() == 500 {
                break;
            }
            let mut e = e.clone();
            e.id = format!("{}#{round}", e.id);
            five_hundred.push(e);
        }
        if five_hundred.len() == 500 {
            break;
        }
    }
    let mut analyzer_times = Vec::new();
    let mut shipped_times = Vec::new();
    let mut big_times = Vec::new();
    let mut index = None;
    for _ in 0..5 {
        let t = Instant::now();
        let analyzer = matching::analyzer(&scripts);
        analyzer_times.push(t.elapsed());
        let t = Instant::now();
        let small = FaqIndex::build(analyzer.clone(), scripts.matching.clone(), shipped.clone());
        shipped_times.push(t.elapsed());
        let t = Instant::now();
        let big = FaqIndex::build(analyzer, scripts.matching.clone(), five_hundred.clone());
        big_times.push(t.elapsed());
        drop(big);
        index = Some(small);
    }
    let index = index.expect("built five times");
    let questions = [
        "身份证丢了怎么补办？",
        "How do I register my e-bike?",
        "没有身份证怎么开房",
        "what are the office hours of the station",
        "my neighbour plays loud music every night",
        "今天天气怎么样",
    ];
    let n = 20_000;
    let t = Instant::now();
    let mut answered = 0;
    for i in 0..n {
        if index.verdict(questions[i % questions.len()]).answered {
            answered += 1;
        }
    }
    let per_question = t.elapsed() / n as u32;
    println!("| step | entries | median of 5 |");
    println!("| --- | ---: | ---: |");
    println!(
        "| load and check bot-scripts (once) | {} | {:.1} ms |",
        shipped.len(),
        ms(load)
    );
    println!(
        "| analyzer (jieba dictionary + synonyms) | - | {:.1} ms |",
        ms(median(analyzer_times))
    );
    println!(
        "| index of the shipped scripts | {} | {:.1} ms |",
        shipped.len(),
        ms(median(shipped_times))
    );
    println!("| index of 500 entries | 500 | {:.1} ms |", ms(median(big_times)));
    println!(
        "| one question matched (mean of {n}; {answered} answered) | {} | {:.1} µs |",
        shipped.len(),
        per_question.as_secs_f64() * 1e6
    );
    Ok(())
}
