//! Message templates in zh-CN and en: `section.key = "text with {placeholders}"`.
//!
//! Substitution is a dozen lines written here rather than a templating crate: templates must
//! stay plain TOML a station admin can edit, placeholders are only `{name}`, and a missing
//! argument must show up visibly (`{name}`) instead of failing a reply at 2 a.m.

use std::collections::BTreeMap;

use crate::domain::Lang;

/// Every template key the code uses. The checker refuses scripts that lack one in either
/// language, and a unit test keeps this list in step with the source.
pub const REQUIRED_KEYS: &[&str] = &[
    "common.unknown_command",
    "common.too_long",
    "common.slow_down",
    "common.control_chars",
    "common.bad_args",
    "common.unterminated_quote",
    "common.empty_value",
    "common.staff_only",
    "common.not_enrolled",
    "common.unlinked_group",
    "common.ticket_not_found",
    "common.bad_ticket_no",
    "common.expired_button",
    "common.not_your_button",
    "common.missing_text",
    "common.no_station",
    "common.open_private_chat",
    "common.open_private_chat_link",
    "help.header",
    "help.footer",
    "help.role_resident",
    "help.role_liaison",
    "help.role_officer",
    "help.role_admin",
    "help.help",
    "help.lang",
    "help.ask",
    "help.tip",
    "help.subscribe",
    "help.unsubscribe",
    "help.quiet",
    "help.notice",
    "help.report",
    "help.feedback",
    "help.status",
    "help.cancel",
    "help.tickets",
    "help.ack",
    "help.note",
    "help.resolve",
    "help.assign",
    "help.answer",
    "help.alert",
    "help.link",
    "help.invite",
    "help.join",
    "help.liaisons",
    "help.revoke",
    "invite.usage",
    "invite.new_hotel",
    "invite.created",
    "invite.link",
    "invite.sent_privately",
    "join.usage",
    "join.staff",
    "join.unknown",
    "join.locked",
    "join.used",
    "join.expired",
    "join.revoked",
    "join.already",
    "join.done",
    "join.officer_told",
    "liaisons.header",
    "liaisons.line",
    "liaisons.pending_header",
    "liaisons.pending_line",
    "liaisons.footer",
    "revoke.usage",
    "revoke.done",
    "revoke.told",
    "revoke.code_done",
    "revoke.unknown",
    "link.usage",
    "link.done",
    "link.other_station",
    "link.kind_community",
    "link.kind_liaison",
    "lang.set",
    "lang.usage",
    "tip.card",
    "tip.empty",
    "help.index",
    "help.schedule",
    "help.campaign",
    "tip.scheduled",
    "schedule.show",
    "schedule.usage",
    "schedule.other_station",
    "schedule.tips_station",
    "schedule.tips_group",
    "schedule.index_station",
    "schedule.index_group",
    "schedule.source_group",
    "schedule.source_station",
    "schedule.source_default",
    "campaign.usage",
    "campaign.running",
    "campaign.none",
    "campaign.ended",
    "campaign.started",
    "index.caption",
    "index.title_day",
    "index.title_week",
    "index.when_week",
    "index.trend_up",
    "index.trend_down",
    "index.trend_steady",
    "index.day_before",
    "index.week_before",
    "index.top",
    "index.top_none",
    "index.no_station",
    "index.usage",
    "digest.header",
    "digest.scope_beat",
    "digest.scope_station",
    "digest.open",
    "digest.days",
    "digest.more",
    "digest.questions",
    "digest.no_questions",
    "digest.index",
    "subscribe.done",
    "subscribe.unknown",
    "subscribe.none",
    "unsubscribe.done",
    "subscribe.group_checklist",
    "subscribe.group_nothing",
    "subscribe.group_officers_only",
    "topic.weather",
    "topic.fraud",
    "topic.traffic",
    "topic.security",
    "topic.missing",
    "topic.tips",
    "quiet.is",
    "quiet.none",
    "quiet.usage",
    "quiet.digest",
    "alert.bad_topic",
    "alert.summary_held",
    "alert.summary_unsubscribed",
    "notice.usage",
    "notice.not_found",
    "notice.not_active",
    "notice.renewed",
    "notice.found_text",
    "notice.withdrawn_text",
    "notice.found",
    "notice.withdrawn",
    "notice.ask_photo",
    "notice.ask_description",
    "notice.ask_place",
    "notice.ask_time",
    "notice.ask_audience",
    "notice.use_buttons",
    "notice.cancelled",
    "notice.text_missing",
    "notice.text_wanted",
    "notice.info_button",
    "notice.info_intro",
    "notice.closed",
    "notice.tip_about",
    "notice.hotels_check",
    "alert_dialogue.ask_level",
    "alert_dialogue.ask_topic",
    "alert_dialogue.ask_text",
    "alert_dialogue.ask_instruction",
    "alert_dialogue.ask_area",
    "alert_dialogue.ask_audience",
    "alert_dialogue.ask_expiry",
    "alert_dialogue.skip_button",
    "alert_dialogue.to_station",
    "alert_dialogue.to_community",
    "alert_dialogue.to_liaison",
    "alert_dialogue.to_all",
    "alert_dialogue.hours_button",
    "alert_dialogue.cancelled",
    "alert_dialogue.use_buttons",
    "alert_dialogue.details",
    "ask.usage",
    "ask.answer",
    "ask.queued",
    "ask.officer_new",
    "ask.station_answer",
    "ask.emergency",
    "ask.emergency_officer",
    "ask.emergency_where_dm",
    "ask.emergency_where_group",
    "ask.did_you_mean",
    "ask.none_of_these",
    "ask.already_chosen",
    "answer.add_to_faq",
    "faq.usage",
    "faq.list",
    "faq.empty",
    "faq.line",
    "faq.added",
    "faq.edited",
    "faq.example_added",
    "faq.reworded",
    "faq.removed",
    "faq.not_found",
    "faq.not_answered",
    "faq.already_added",
    "faq.too_long",
    "station.usage",
    "station.unknown_fact",
    "station.too_long",
    "station.unset",
    "station.facts",
    "station.updated",
    "help.faq",
    "help.station",
    "answer.usage",
    "answer.not_found",
    "answer.already",
    "answer.relayed",
    "answer.to_asker",
    "answer.to_feedback",
    "report.usage",
    "report.unknown_kind",
    "report.not_allowed",
    "report.wrong_group",
    "report.unknown_field",
    "report.bad_value",
    "report.bad_choice",
    "report.continue_in_dm",
    "report.ask_field",
    "report.ask_choice",
    "report.ask_multichoice",
    "report.cancel_button",
    "report.done_button",
    "report.skip_button",
    "report.cancelled",
    "report.expired",
    "report.nothing_to_cancel",
    "report.received_group",
    "report.received_reporter",
    "report.officer_new",
    "report.ack_button",
    "ticket.list_header",
    "ticket.list_line",
    "ticket.list_empty",
    "ticket.already_acked",
    "ticket.finished",
    "ticket.acked",
    "ticket.acked_reporter",
    "ticket.note_added",
    "ticket.note_reporter",
    "ticket.resolved",
    "ticket.resolved_reporter",
    "ticket.status",
    "ticket.status_not_yours",
    "ticket.assigned",
    "ticket.assigned_to_you",
    "ticket.assigned_away",
    "ticket.assign_unknown",
    "ticket.usage_note",
    "ticket.usage_resolve",
    "ticket.usage_assign",
    "ticket.usage_ack",
    "rating.thanks",
    "rating.already",
    "rating.button",
    "status.open",
    "status.acknowledged",
    "status.resolved",
    "status.closed",
    "alert.follow_up_usage",
    "alert.not_found",
    "alert.not_active",
    "alert.updated_message",
    "alert.cancelled_message",
    "alert.allclear_message",
    "alert.updated",
    "alert.withdrawn",
    "alert.cleared",
    "alert.usage",
    "alert.bad_level",
    "alert.bad_audience",
    "alert.preview",
    "alert.confirm_button",
    "alert.cancel_button",
    "alert.message",
    "alert.sending",
    "alert.cancelled",
    "alert.no_targets",
    "alert.summary",
    "alert.failure_gone",
    "alert.failure_dead",
    "alert.failure_unreachable",
    "alert.failures_hint",
    "alert.progress",
    "alert.already_handled",
    "alert.expired_draft",
    "warning.sent",
    "warning.preview",
    "warning.severity_extreme",
    "warning.severity_severe",
    "warning.severity_moderate",
    "warning.severity_minor",
    "warning.severity_unknown",
    "alert.level_info",
    "alert.level_warning",
    "alert.level_urgent",
    "feedback.usage",
    "feedback.received",
    "feedback.officer_new",
    "input.bad_id_number",
    "input.bad_phone",
    "input.bad_time",
    "input.bad_amount",
    "input.bad_yesno",
    "input.bad_pattern",
    "input.needs_photo",
    "input.needs_location",
    "group.removed",
    "yesno.yes",
    "yesno.no",
    "common.admin_only",
    "help.close",
    "help.history",
    "help.stats",
    "help.reviews",
    "help.review",
    "ticket.usage_close",
    "ticket.due_ack",
    "ticket.overdue_ack",
    "ticket.due_resolve",
    "ticket.overdue_resolve",
    "ticket.closed",
    "ticket.closed_reporter",
    "ticket.assigned_reporter",
    "rating.thanks_only",
    "rating.comment_thanks",
    "rating.comment_already",
    "rating.comment_skipped",
    "review.opened",
    "review.comment",
    "review.none",
    "review.list_header",
    "review.list_line",
    "review.usage",
    "review.not_found",
    "review.already",
    "review.closed",
    "history.usage",
    "history.header",
    "history.line",
    "history.line_detail",
    "action.created",
    "action.acknowledged",
    "action.note",
    "action.resolved",
    "action.closed",
    "action.assigned",
    "action.rated",
    "action.commented",
    "action.escalated_duty",
    "action.escalated_admin",
    "action.missed_ack",
    "action.missed_resolve",
    "action.reminded",
    "action.review_opened",
    "action.review_closed",
    "stats.usage",
    "stats.header",
    "stats.hotels",
    "stats.none",
    "stats.ack",
    "stats.resolve",
    "stats.breaches",
    "stats.rating",
    "sla.escalated_duty",
    "sla.who_duty",
    "sla.who_admin",
    "sla.escalated_admin",
    "sla.overdue_officer",
    "sla.resolve_reminder",
    "sla.resolve_breach",
    "watch.silent_hotel",
];

/// Both languages' templates, flattened to `section.key`.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub(super) zh: BTreeMap<String, String>,
    pub(super) en: BTreeMap<String, String>,
}

impl Templates {
    /// The template `key` in `lang` with `{name}` placeholders replaced from `args`.
    pub fn render(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        let table = match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        };
        let Some(template) = table.get(key) else {
            tracing::error!(key, "template missing at run time");
            return key.to_owned();
        };
        substitute(template, args)
    }
}

/// Replaces each `{name}` with its argument; unknown names stay as they are.
pub fn substitute(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A placeholder name: letters, digits, `_`, and `.` between parts (`{station.hours}`).
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// The placeholder names a template uses.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                names.push(after[..close].to_owned());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_names_and_keeps_unknown_ones_visible() {
        assert_eq!(substitute("#{n} by {who}", &[("n", "5")]), "#5 by {who}");
        assert_eq!(substitute("a {not a name} b", &[]), "a {not a name} b");
        assert_eq!(placeholders("{b} {a} {b}"), vec!["a", "b"]);
    }

    #[test]
    fn every_template_key_used_in_the_source_is_required() {
        let pattern = regex::Regex::new(r#"(?:msg|render|tell|UserError::new)\([^"]*"([a-z_]+\.[a-z_]+)""#).unwrap();
        let mut missing = Vec::new();
        let mut found = 0;
        for entry in walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))) {
            let source = std::fs::read_to_string(&entry).unwrap();
            for cap in pattern.captures_iter(&source) {
                let key = &cap[1];
                found += 1;
                if !REQUIRED_KEYS.contains(&key) {
                    missing.push(format!("{}: {key}", entry.display()));
                }
            }
        }
        assert!(
            found > 80,
            "the scan found only {found} template uses: is the pattern still right?"
        );
        assert!(missing.is_empty(), "keys used but not in REQUIRED_KEYS: {missing:?}");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files
    }
}
