//! What a button does when pressed: [`Press`], with one encoding into the button's data (what
//! the platform carries back, at most 64 bytes on Telegram) and one decoding of it. Data that
//! does not decode — an old or forged button — is refused as "expired", never guessed.

/// The action a button carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// A step of the report dialogue whose current question has `nonce` (`d:NONCE:…`).
    Dialogue { nonce: String, step: DialogueStep },
    /// Acknowledge a ticket (`ack:N`).
    Ack { ticket: i64 },
    /// Rate a resolved ticket 1-5 (`rate:N:K`).
    Rate { ticket: i64, stars: i64 },
    /// "Did you mean" answered with an FAQ entry (`faq:pick:Q:ENTRY`; ENTRY may hold colons).
    FaqPick { question: i64, entry: String },
    /// "None of these: ask an officer" (`faq:none:Q`).
    FaqNone { question: i64 },
    /// Add an answered question to the station's FAQ (`faq:add:Q`).
    FaqAdd { question: i64 },
    /// Send a drafted alert (`alert:send:ID`).
    AlertSend { alert: i64 },
    /// Drop a drafted alert (`alert:cancel:ID`).
    AlertCancel { alert: i64 },
    /// Tick or untick a topic of the `/subscribe` checklist (`sub:N`, N its index).
    Topic { topic: super::Topic },
    /// "I have information" under a notice (`info:ID`).
    NoticeInfo { alert: i64 },
}

/// A step of the report dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogueStep {
    /// Pick an option of a single-choice field (`o:KEY`).
    Choose(String),
    /// Tick or untick an option of a multiple-choice field (`t:KEY`).
    Toggle(String),
    /// Done ticking (`done`).
    Done,
    /// Give up the report (`cancel`).
    Cancel,
}

impl Press {
    /// The button data.
    pub fn encode(&self) -> String {
        match self {
            Press::Dialogue { nonce, step } => match step {
                DialogueStep::Choose(key) => format!("d:{nonce}:o:{key}"),
                DialogueStep::Toggle(key) => format!("d:{nonce}:t:{key}"),
                DialogueStep::Done => format!("d:{nonce}:done"),
                DialogueStep::Cancel => format!("d:{nonce}:cancel"),
            },
            Press::Ack { ticket } => format!("ack:{ticket}"),
            Press::Rate { ticket, stars } => format!("rate:{ticket}:{stars}"),
            Press::FaqPick { question, entry } => format!("faq:pick:{question}:{entry}"),
            Press::FaqNone { question } => format!("faq:none:{question}"),
            Press::FaqAdd { question } => format!("faq:add:{question}"),
            Press::AlertSend { alert } => format!("alert:send:{alert}"),
            Press::AlertCancel { alert } => format!("alert:cancel:{alert}"),
            Press::Topic { topic } => format!("sub:{}", topic.index()),
            Press::NoticeInfo { alert } => format!("info:{alert}"),
        }
    }

    /// The action of button data, if it is one beatbot made.
    pub fn decode(data: &str) -> Option<Press> {
        let (head, rest) = data.split_once(':')?;
        let number = |s: &str| -> Option<i64> {
            // Only the canonical form (what `encode` writes): digits, no sign or leading zero.
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            canonical.then(|| s.parse().ok()).flatten()
        };
        let key = |s: &str| (!s.is_empty() && !s.contains(':')).then(|| s.to_owned());
        match head {
            "d" => {
                let (nonce, step) = rest.split_once(':')?;
                let step = match step.split_once(':') {
                    Some(("o", k)) => DialogueStep::Choose(key(k)?),
                    Some(("t", k)) => DialogueStep::Toggle(key(k)?),
                    None if step == "done" => DialogueStep::Done,
                    None if step == "cancel" => DialogueStep::Cancel,
                    _ => return None,
                };
                Some(Press::Dialogue {
                    nonce: key(nonce)?,
                    step,
                })
            }
            "ack" => Some(Press::Ack { ticket: number(rest)? }),
            "rate" => {
                let (n, k) = rest.split_once(':')?;
                let stars = number(k).filter(|k| (1..=5).contains(k))?;
                Some(Press::Rate {
                    ticket: number(n)?,
                    stars,
                })
            }
            "faq" => match rest.split_once(':')? {
                ("pick", r) => {
                    let (q, entry) = r.split_once(':')?;
                    // The entry is the rest: a station's own entries are `station:N`.
                    Some(Press::FaqPick {
                        question: number(q)?,
                        entry: (!entry.is_empty()).then(|| entry.to_owned())?,
                    })
                }
                ("none", q) => Some(Press::FaqNone { question: number(q)? }),
                ("add", q) => Some(Press::FaqAdd { question: number(q)? }),
                _ => None,
            },
            "info" => Some(Press::NoticeInfo { alert: number(rest)? }),
            "sub" => {
                let n = number(rest)?;
                let topic = *super::Topic::ALL.get(usize::try_from(n).ok()?)?;
                Some(Press::Topic { topic })
            }
            "alert" => match rest.split_once(':')? {
                ("send", id) => Some(Press::AlertSend { alert: number(id)? }),
                ("cancel", id) => Some(Press::AlertCancel { alert: number(id)? }),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        // Option keys, nonces and FAQ entry ids: anything without a colon.
        "[a-z0-9_/\\-]{1,24}"
    }

    fn press() -> impl Strategy<Value = Press> {
        let id = 0..i64::MAX;
        let step = prop_oneof![
            key().prop_map(DialogueStep::Choose),
            key().prop_map(DialogueStep::Toggle),
            Just(DialogueStep::Done),
            Just(DialogueStep::Cancel),
        ];
        prop_oneof![
            (key(), step).prop_map(|(nonce, step)| Press::Dialogue { nonce, step }),
            id.clone().prop_map(|ticket| Press::Ack { ticket }),
            (id.clone(), 1..=5i64).prop_map(|(ticket, stars)| Press::Rate { ticket, stars }),
            (id.clone(), "[a-z0-9_/:\\-]{1,24}").prop_map(|(question, entry)| Press::FaqPick { question, entry }),
            id.clone().prop_map(|question| Press::FaqNone { question }),
            id.clone().prop_map(|question| Press::FaqAdd { question }),
            id.clone().prop_map(|alert| Press::AlertSend { alert }),
            proptest::sample::select(crate::domain::Topic::ALL).prop_map(|topic| Press::Topic { topic }),
            id.clone().prop_map(|alert| Press::NoticeInfo { alert }),
            id.prop_map(|alert| Press::AlertCancel { alert }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn every_press_round_trips(p in press()) {
            prop_assert_eq!(Press::decode(&p.encode()), Some(p));
        }

        #[test]
        fn whatever_decodes_encodes_back_to_the_same_data(data in "(d|ack|rate|faq|alert|x)?(:[a-z0-9]{0,4}){0,4}") {
            if let Some(p) = Press::decode(&data) {
                prop_assert_eq!(p.encode(), data);
            }
        }

        #[test]
        fn any_text_decodes_without_panicking(data in "\\PC{0,80}") {
            let _ = Press::decode(&data);
        }
    }

    #[test]
    fn forged_or_old_data_is_refused() {
        for data in [
            "",
            "ack",
            "ack:",
            "ack:-1",
            "ack:+1",
            "ack:01",
            "rate:1:6",
            "rate:1:0",
            "alert:drop:1",
            "faq:pick:1:",
            "d:1:o:",
            "d:1:maybe",
            "help:1",
        ] {
            assert_eq!(Press::decode(data), None, "{data}");
        }
        assert_eq!(Press::decode("rate:12:5"), Some(Press::Rate { ticket: 12, stars: 5 }));
    }
}
