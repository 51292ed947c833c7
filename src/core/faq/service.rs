//! The FAQ indexes a running bot holds: bot-scripts' shared one, built once at start-up, and per
//! station that has entries of its own, the shared one extended with them — rebuilt when the
//! station's `faq_version` in the database moves, so every replica follows an officer's edit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::matching::{self, Entry, FaqIndex};
use crate::scripts::Scripts;
use crate::store::{Conn, station_faq};

/// How a station's own entry is named in an index (`station:7`).
const STATION_PREFIX: &str = "station:";

/// The number of a station entry's index id.
pub fn station_entry_no(id: &str) -> Option<i64> {
    id.strip_prefix(STATION_PREFIX)?.parse().ok()
}

pub struct FaqService {
    shared: Arc<FaqIndex>,
    /// Station → (the `faq_version` it was built at, the index).
    stations: Mutex<HashMap<String, (i64, Arc<FaqIndex>)>>,
}

impl FaqService {
    pub fn new(scripts: &Scripts) -> Arc<FaqService> {
        Arc::new(FaqService {
            shared: matching::index(scripts),
            stations: Mutex::new(HashMap::new()),
        })
    }

    pub fn shared(&self) -> &Arc<FaqIndex> {
        &self.shared
    }

    /// The index a question at `station` is matched against (its own entries beside the shared
    /// FAQ, when it has any), and the station's facts; the shared index where there is no
    /// station.
    pub async fn for_question(
        &self,
        conn: &mut Conn,
        station: Option<&str>,
    ) -> Result<(Arc<FaqIndex>, Option<station_faq::Facts>)> {
        let Some(station) = station else {
            return Ok((self.shared.clone(), None));
        };
        let facts = station_faq::facts(&mut *conn, station).await?;
        let index = match &facts {
            Some(f) if f.faq_version > 0 => self.for_station(conn, station, f.faq_version).await?,
            _ => self.shared.clone(),
        };
        Ok((index, facts))
    }

    /// The index for `station` at `version` of its own entries.
    pub async fn for_station(&self, conn: &mut Conn, station: &str, version: i64) -> Result<Arc<FaqIndex>> {
        if let Some((v, index)) = self.lock().get(station)
            && *v == version
        {
            return Ok(index.clone());
        }
        let entries = station_faq::list(conn, station)
            .await?
            .into_iter()
            .map(|e| {
                let mut texts = vec![e.question];
                texts.extend(e.examples);
                Entry {
                    id: format!("{STATION_PREFIX}{}", e.id),
                    texts,
                    out_of_scope: false,
                }
            })
            .collect();
        let index = Arc::new(self.shared.extended(entries));
        self.lock().insert(station.to_owned(), (version, index.clone()));
        Ok(index)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Arc<FaqIndex>)>> {
        // A panic elsewhere while holding the lock leaves a cache that is still consistent.
        self.stations.lock().unwrap_or_else(|e| e.into_inner())
    }
}
