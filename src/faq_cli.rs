//! `beatbot faq query` and `beatbot faq eval`: what the bot would do with a question, and how the
//! matching fares on a labelled set of questions.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::matching::{FaqIndex, Verdict, eval};

/// The JSON line of `beatbot faq query --json`:
/// `{"answered", "id", "score", "runner_up": {"id", "score"}, "suggestions", "emergency",
/// "best": {"id", "score"}, "coverage", "out_of_scope"}` — `id` only when something is answered.
pub fn query_json(verdict: &Verdict) -> String {
    let runner_up = verdict
        .runner_up
        .as_ref()
        .map(|r| serde_json::json!({ "id": r.id, "score": r.score }));
    serde_json::json!({
        "answered": verdict.answered,
        "id": verdict.id,
        "score": verdict.best.as_ref().map(|b| b.score),
        "runner_up": runner_up,
        "best": verdict.best.as_ref().map(|b| serde_json::json!({ "id": b.id, "score": b.score })),
        "suggestions": verdict.suggestions,
        "emergency": verdict.emergency,
        "out_of_scope": verdict.out_of_scope,
        "coverage": verdict.coverage,
    })
    .to_string()
}

/// The same in words.
pub fn query_text(verdict: &Verdict) -> String {
    let mut s = String::new();
    if verdict.emergency {
        let _ = writeln!(
            s,
            "danger now: answer \"call 110 now\" and tell the duty officers ({})",
            crate::matching::EMERGENCY_ID
        );
        return s;
    }
    let best = verdict
        .best
        .as_ref()
        .map(|b| format!("{} (score {:.2}, coverage {:.2})", b.id, b.score, verdict.coverage));
    match (&verdict.id, &best) {
        (Some(_), Some(best)) => {
            let _ = writeln!(s, "answer with {best}");
        }
        _ => {
            if !verdict.suggestions.is_empty() {
                let _ = writeln!(s, "offer \"Did you mean\": {}", verdict.suggestions.join(", "));
            } else if let Some(topic) = &verdict.out_of_scope {
                let _ = writeln!(s, "hand over to an officer (not police business: {topic})");
            } else {
                let _ = writeln!(s, "hand over to an officer");
            }
            if let Some(best) = best.filter(|_| verdict.out_of_scope.is_none()) {
                let _ = writeln!(s, "best: {best}");
            }
        }
    }
    if let Some(r) = &verdict.runner_up {
        let _ = writeln!(s, "runner-up: {} (score {:.2})", r.id, r.score);
    }
    s
}

fn cases(path: &Path) -> Result<Vec<eval::Case>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    eval::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs an evaluation file; the report's `passes()` says whether the targets are met.
pub fn eval_file(index: &FaqIndex, path: &Path) -> Result<eval::Report> {
    Ok(eval::run(index, &cases(path)?))
}

/// `faq eval --sweep`: the 40 best threshold settings on an evaluation file, as a table.
pub fn sweep_file(index: &FaqIndex, path: &Path) -> Result<String> {
    let mut s = String::from("answer_coverage margin min_score   right   wrong  off-topic held\n");
    for t in eval::sweep(index, &cases(path)?).iter().take(40) {
        let _ = writeln!(
            s,
            "{:>15.2} {:>6.2} {:>9.1} {:>6.1}% {:>6.1}% {:>6.1}%",
            t.answer_coverage,
            t.margin,
            t.min_score,
            t.right * 100.0,
            t.wrong * 100.0,
            t.held * 100.0
        );
    }
    Ok(s)
}
