//! Scheduled safety tips: every linked group and every subscriber of "safety tips" gets a card
//! of the deck on its schedule (the group's own, else its station's, else bot-scripts'), in
//! its language and the station's time zone. The deck is dealt, not drawn: each recipient goes
//! through every card before one repeats, the suits taking turns, and a campaign (an officer's,
//! a fraud alert's in the last days, or a season of `schedule.toml`) puts its suit first.
//! Tips wait out quiet hours (a person's own, a group's the station default), go at the
//! lowest priority (any alert overtakes them), skip groups the bot was removed from, and come
//! weekly at most to a group silent for months. [`run`] is the scheduler's job; [`preview`]
//! shows the coming days without sending anything.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{Datelike, TimeZone};

use super::{Outbound, Recipient};
use crate::app::enqueue_keyed;
use crate::domain::cadence::{MISSED_AFTER_MS, local_date};
use crate::domain::{Cadence, Lang, Topic};
use crate::scripts::{Scripts, Tip};
use crate::store::schedules::{self, Campaign, Deck};
use crate::store::{Tx, people, stations};

const DAY_MS: i64 = 86_400_000;
/// Outbox priority of a tip: below everything else.
pub const TIP_PRIORITY: i64 = -1;

/// Deals the next card of `deck`: a card of `first` while this round still has one, else a
/// card of the suit after the one dealt last that has cards left (suits in the order of
/// `tips.toml`), each suit's cards in file order. A round ends when every card was dealt.
pub fn deal<'t>(tips: &'t [Tip], deck: &mut Deck, first: Option<&str>) -> Option<&'t Tip> {
    if tips.is_empty() {
        return None;
    }
    deck.dealt.retain(|id| tips.iter().any(|t| &t.id == id));
    if deck.dealt.len() >= tips.len() {
        deck.dealt.clear();
    }
    let undealt = |suit: &str| tips.iter().find(|t| t.suit == suit && !deck.dealt.contains(&t.id));
    let mut card = first.and_then(undealt);
    if card.is_none() {
        let mut suits: Vec<&str> = Vec::new();
        for t in tips {
            if !suits.contains(&t.suit.as_str()) {
                suits.push(&t.suit);
            }
        }
        let after = deck
            .last_suit
            .as_deref()
            .and_then(|s| suits.iter().position(|x| *x == s))
            .map_or(0, |i| i + 1);
        card = (0..suits.len()).find_map(|k| undealt(suits[(after + k) % suits.len()]));
    }
    let card = card?;
    deck.dealt.push(card.id.clone());
    deck.last_suit = Some(card.suit.clone());
    Some(card)
}

/// Someone who gets tips.
#[derive(Debug, Clone)]
pub struct TipTarget {
    /// `group:ID` or `person:ID`.
    pub key: String,
    pub to: Recipient,
    pub station: String,
    pub group_id: Option<i64>,
    pub lang: Lang,
    /// No slot before this counts (when the bot first knew the chat).
    pub since: i64,
    pub quiet: Option<(i64, i64)>,
    /// A group's last activity; `None` for a person.
    pub last_active_at: Option<i64>,
    /// How `beatbot tips preview` names it.
    pub label: String,
}

/// What one pass needs: recipients, schedules, decks and what puts a suit first.
pub struct Plan {
    pub targets: Vec<TipTarget>,
    overrides: HashMap<String, String>,
    decks: HashMap<String, Deck>,
    campaigns: HashMap<String, Vec<Campaign>>,
    fraud_alerts: HashMap<String, i64>,
}

impl Plan {
    /// Loads everything for one station, or for all.
    pub async fn load(tx: &mut Tx, scripts: &Scripts, station: Option<&str>, now: i64) -> Result<Plan> {
        let mut targets = Vec::new();
        for g in schedules::tip_groups(tx, station, Some(Topic::Tips.as_str())).await? {
            targets.push(TipTarget {
                key: schedules::group_key(g.id),
                to: Recipient::Chat {
                    platform: g.platform,
                    chat_id: g.chat_id.clone(),
                },
                station: g.station_id.clone(),
                group_id: Some(g.id),
                lang: g.lang,
                since: g.created_at,
                quiet: scripts.settings.quiet_hours,
                last_active_at: Some(g.last_active_at),
                label: format!("group {}:{} ({})", g.platform, g.chat_id, g.kind),
            });
        }
        let stations = match station {
            Some(s) => vec![s.to_owned()],
            None => stations::list(tx).await?,
        };
        for s in &stations {
            for p in people::subscribers(tx, s, Topic::Tips.as_str()).await? {
                targets.push(TipTarget {
                    key: schedules::person_key(p.id),
                    to: Recipient::Person(p.id),
                    station: s.clone(),
                    group_id: None,
                    lang: p.lang.or(p.station_lang).unwrap_or(scripts.settings.default_lang),
                    since: p.created_at,
                    quiet: super::quiet::window(scripts, &p),
                    last_active_at: None,
                    label: format!("subscriber {}", p.handle),
                });
            }
        }
        let mut decks = schedules::decks(tx, "group:").await?;
        decks.extend(schedules::decks(tx, "person:").await?);
        let days = scripts.schedules.campaign_after_alert_days;
        Ok(Plan {
            targets,
            overrides: schedules::all(tx, "tips").await?,
            decks,
            campaigns: schedules::campaigns_from(tx, now - 8 * DAY_MS).await?,
            fraud_alerts: schedules::last_alert_about(tx, Topic::Fraud.as_str(), now - (days + 30) * DAY_MS).await?,
        })
    }

    /// A target's schedule: its group's own, else its station's, else bot-scripts'.
    pub fn cadence(&self, scripts: &Scripts, t: &TipTarget) -> Cadence {
        schedules::in_force(&self.overrides, &t.station, t.group_id, scripts.schedules.tips).0
    }

    /// The suit a station's tips put first at `at`: an officer's campaign, else a fraud alert
    /// within `campaign_after_alert_days`, else a season.
    pub fn first_suit(&self, scripts: &Scripts, station: &str, at: i64) -> Option<String> {
        if let Some(c) = self
            .campaigns
            .get(station)
            .and_then(|cs| cs.iter().rev().find(|c| c.starts_at <= at && at < c.ends_at))
        {
            return Some(c.suit.clone());
        }
        let window = scripts.schedules.campaign_after_alert_days * DAY_MS;
        if self
            .fraud_alerts
            .get(station)
            .is_some_and(|sent| *sent <= at && at - sent < window)
            && scripts.suits.contains_key("fraud")
        {
            return Some("fraud".into());
        }
        let local = scripts.settings.timezone.timestamp_millis_opt(at).single()?;
        scripts
            .schedules
            .seasons
            .iter()
            .find(|s| s.contains(local.month(), local.day()))
            .map(|s| s.suit.clone())
    }

    /// Whether a group silent for `dormant_days` had a tip within the last week.
    fn dormant_and_served(&self, scripts: &Scripts, t: &TipTarget, deck: &Deck, at: i64) -> bool {
        let dormant = t
            .last_active_at
            .is_some_and(|a| at - a > scripts.schedules.dormant_days * DAY_MS);
        // Six and a half days: the same weekday's slot a week on is "a week".
        dormant && deck.last_sent_at > 0 && at - deck.last_sent_at < 13 * DAY_MS / 2
    }
}

/// When a post for `slot` may go: the slot, or the end of the quiet hours it falls in.
pub fn due_at(slot: i64, quiet: Option<(i64, i64)>, tz: chrono_tz::Tz) -> i64 {
    quiet
        .and_then(|w| super::quiet::quiet_until(slot, tz, w))
        .unwrap_or(slot)
}

fn tip_text(scripts: &Scripts, lang: Lang, card: &Tip) -> String {
    let suit = scripts.suits.get(&card.suit).map(|t| t.get(lang)).unwrap_or_default();
    scripts
        .templates
        .render(lang, "tip.scheduled", &[("suit", suit), ("text", card.text.get(lang))])
}

/// What a pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub tips: u64,
    /// Slots passed by: missed while the bot was down, or a silent group's within a week.
    pub skipped: usize,
}

/// The scheduler's job: every recipient whose slot came (and whose quiet hours are over)
/// gets the next card of its deck.
pub async fn run(tx: &mut Tx, scripts: &Scripts, now: i64) -> Result<Sent> {
    let tz = scripts.settings.timezone;
    let plan = Plan::load(tx, scripts, None, now).await?;
    let mut out = Vec::new();
    let mut changed = Vec::new();
    let mut sent = Sent::default();
    for t in &plan.targets {
        let cadence = plan.cadence(scripts, t);
        let mut deck = plan.decks.get(&t.key).cloned().unwrap_or_default();
        let after = deck.last_slot.max(t.since).max(now - 8 * DAY_MS);
        let Some(slot) = cadence.slots_between(after, now, tz).pop() else {
            continue;
        };
        let due = due_at(slot, t.quiet, tz);
        if now < due {
            continue;
        }
        // One a day at most: a schedule moved later the same day does not send a second one.
        let same_day = deck.last_sent_at > 0 && local_date(deck.last_sent_at, tz) == local_date(due, tz);
        deck.last_slot = slot;
        if same_day || now - due > MISSED_AFTER_MS || plan.dormant_and_served(scripts, t, &deck, now) {
            sent.skipped += 1;
            changed.push((t.key.clone(), deck));
            continue;
        }
        let first = plan.first_suit(scripts, &t.station, now);
        let Some(card) = deal(&scripts.tips, &mut deck, first.as_deref()) else {
            continue;
        };
        deck.last_sent_at = now;
        let mut message = Outbound::new(t.to.clone(), tip_text(scripts, t.lang, card));
        message.priority = TIP_PRIORITY;
        let day = local_date(slot, tz).map(|d| d.to_string()).unwrap_or_default();
        out.push((message, format!("tip:{}:{day}", t.key)));
        changed.push((t.key.clone(), deck));
    }
    sent.tips = enqueue_keyed(tx, &out, now).await?;
    schedules::save_decks(tx, &changed).await?;
    Ok(sent)
}

/// One line of `beatbot tips preview`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewLine {
    pub at: i64,
    pub target: String,
    pub lang: Lang,
    /// The card's id and text, or why the slot is passed by.
    pub card: Result<(String, String), String>,
}

/// What the next `days` days would bring a station's recipients, dealt from their decks as
/// they are now; nothing is written.
pub async fn preview(tx: &mut Tx, scripts: &Scripts, station: &str, days: i64, now: i64) -> Result<Vec<PreviewLine>> {
    let tz = scripts.settings.timezone;
    let plan = Plan::load(tx, scripts, Some(station), now).await?;
    let mut lines = Vec::new();
    for t in &plan.targets {
        let cadence = plan.cadence(scripts, t);
        let mut deck = plan.decks.get(&t.key).cloned().unwrap_or_default();
        // As `run` sees them: a slot passed but still waiting out quiet hours is to come.
        let after = deck.last_slot.max(t.since).max(now - 8 * DAY_MS);
        for slot in cadence.slots_between(after, now + days * DAY_MS, tz) {
            let mut at = due_at(slot, t.quiet, tz);
            if at < now {
                if now - at > MISSED_AFTER_MS {
                    continue;
                }
                at = now;
            }
            if deck.last_sent_at > 0 && local_date(deck.last_sent_at, tz) == local_date(at, tz) {
                continue;
            }
            let card = if plan.dormant_and_served(scripts, t, &deck, at) {
                Err("silent group: weekly at most".into())
            } else {
                let first = plan.first_suit(scripts, &t.station, at);
                match deal(&scripts.tips, &mut deck, first.as_deref()) {
                    Some(card) => {
                        deck.last_sent_at = at;
                        Ok((card.id.clone(), tip_text(scripts, t.lang, card)))
                    }
                    None => Err("no tips in tips.toml".into()),
                }
            };
            lines.push(PreviewLine {
                at,
                target: t.label.clone(),
                lang: t.lang,
                card,
            });
        }
    }
    lines.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.target.cmp(&b.target)));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::Text;

    fn tip(id: &str, suit: &str) -> Tip {
        Tip {
            id: id.into(),
            suit: suit.into(),
            text: Text {
                zh: id.into(),
                en: id.into(),
            },
        }
    }

    fn deck() -> Vec<Tip> {
        vec![
            tip("t1", "theft"),
            tip("t2", "theft"),
            tip("f1", "fraud"),
            tip("f2", "fraud"),
            tip("f3", "fraud"),
            tip("a1", "accident"),
        ]
    }

    #[test]
    fn every_card_once_per_round_suits_taking_turns() {
        let tips = deck();
        let mut d = Deck::default();
        let round: Vec<String> = (0..6).map(|_| deal(&tips, &mut d, None).unwrap().id.clone()).collect();
        assert_eq!(round, ["t1", "f1", "a1", "t2", "f2", "f3"]);
        // The next round starts again with every card available.
        let next: Vec<String> = (0..6).map(|_| deal(&tips, &mut d, None).unwrap().id.clone()).collect();
        let mut sorted = next.clone();
        sorted.sort();
        assert_eq!(sorted, ["a1", "f1", "f2", "f3", "t1", "t2"]);
    }

    #[test]
    fn a_campaign_suit_comes_first_until_its_cards_of_the_round_are_dealt() {
        let tips = deck();
        let mut d = Deck::default();
        let dealt: Vec<String> = (0..6)
            .map(|_| deal(&tips, &mut d, Some("fraud")).unwrap().id.clone())
            .collect();
        assert_eq!(dealt, ["f1", "f2", "f3", "a1", "t1", "t2"]);
    }

    #[test]
    fn cards_removed_from_the_scripts_are_forgotten() {
        let tips = deck();
        let mut d = Deck {
            dealt: vec!["gone".into(), "t1".into()],
            last_suit: Some("theft".into()),
            ..Deck::default()
        };
        assert_eq!(deal(&tips, &mut d, None).unwrap().id, "f1");
        assert_eq!(d.dealt, ["t1", "f1"]);
        assert!(deal(&[], &mut Deck::default(), None).is_none());
    }
}
