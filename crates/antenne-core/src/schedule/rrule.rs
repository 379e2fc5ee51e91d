//! RFC 5545 RRULEs for a show's slots, for the feed's `podcast:updateFrequency`.
//!
//! Slots that differ only in their days merge into one rule; otherwise the rule of the slot
//! that airs most often stands for the show (one RRULE cannot express every union).

use std::collections::BTreeSet;

use super::types::{Recurrence, Slot, Weeks};

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    monthly: bool,
    interval: u32,
    /// Monday = 0.
    days: BTreeSet<u32>,
    month_days: BTreeSet<u32>,
    months: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    minutes: BTreeSet<u32>,
    seconds: BTreeSet<u32>,
}

impl Rule {
    fn of(slot: &Slot) -> Rule {
        let interval = match slot.weeks {
            Weeks::All => 1,
            Weeks::Odd | Weeks::Even => 2,
            Weeks::Every { n, .. } => n,
        };
        match &slot.recurrence {
            Recurrence::Weekly { days, start } => Rule {
                monthly: false,
                interval,
                days: (0..7).filter(|&i| days[i as usize]).collect(),
                month_days: BTreeSet::new(),
                months: BTreeSet::new(),
                hours: BTreeSet::from([start.hour() as u32]),
                minutes: BTreeSet::from([start.minute() as u32]),
                seconds: BTreeSet::from([start.second() as u32]),
            },
            Recurrence::Cron { tab, .. } => {
                let monthly = tab.dom_restricted && !tab.dow_restricted && interval == 1;
                Rule {
                    monthly,
                    interval,
                    days: if monthly {
                        BTreeSet::new()
                    } else {
                        tab.weekdays.iter().map(|d| (d + 6) % 7).collect()
                    },
                    month_days: if monthly {
                        tab.days_of_month.clone()
                    } else {
                        BTreeSet::new()
                    },
                    months: if tab.months.len() == 12 {
                        BTreeSet::new()
                    } else {
                        tab.months.clone()
                    },
                    hours: tab.hours.clone(),
                    minutes: tab.minutes.clone(),
                    seconds: tab.seconds.clone(),
                }
            }
        }
    }

    /// Occurrences per year, roughly: to pick the representative rule.
    fn weight(&self) -> usize {
        let per_day = self.hours.len() * self.minutes.len() * self.seconds.len();
        let days = if self.monthly {
            self.month_days.len() * 12
        } else {
            self.days.len() * 52 / self.interval as usize
        };
        let months = if self.months.is_empty() {
            12
        } else {
            self.months.len()
        };
        per_day * days * months / 12
    }

    fn render(&self) -> String {
        let list = |s: &BTreeSet<u32>| s.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let mut parts = Vec::new();
        if self.monthly {
            parts.push("FREQ=MONTHLY".to_string());
            parts.push(format!("BYMONTHDAY={}", list(&self.month_days)));
        } else if self.days.len() == 7 && self.interval == 1 {
            parts.push("FREQ=DAILY".to_string());
        } else {
            parts.push("FREQ=WEEKLY".to_string());
            if self.interval > 1 {
                parts.push(format!("INTERVAL={}", self.interval));
            }
            let days: Vec<&str> = self.days.iter().map(|&d| DAYS[d as usize]).collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        if !self.months.is_empty() {
            parts.push(format!("BYMONTH={}", list(&self.months)));
        }
        parts.push(format!("BYHOUR={}", list(&self.hours)));
        parts.push(format!("BYMINUTE={}", list(&self.minutes)));
        if self.seconds != BTreeSet::from([0]) {
            parts.push(format!("BYSECOND={}", list(&self.seconds)));
        }
        parts.join(";")
    }
}

/// The RRULE of one slot when it says exactly what the slot does (the calendar's), or `None`
/// when no rule can: a crontab restricting both day-of-month and day-of-week (cron takes
/// their union), or a day-of-month line on alternating weeks. Odd and even ISO weeks come out
/// as `INTERVAL=2`, which holds between two 53-week years: the caller bounds it.
pub(crate) fn for_slot(slot: &Slot) -> Option<String> {
    if let Recurrence::Cron { tab, .. } = &slot.recurrence
        && tab.dom_restricted
        && (tab.dow_restricted || slot.weeks != Weeks::All)
    {
        return None;
    }
    Some(Rule::of(slot).render())
}

pub(crate) fn for_slots<'a>(slots: impl Iterator<Item = &'a Slot>) -> Option<String> {
    let mut rules: Vec<Rule> = Vec::new();
    for slot in slots {
        let r = Rule::of(slot);
        let same_but_days = rules.iter_mut().find(|x| {
            !x.monthly
                && !r.monthly
                && Rule {
                    days: r.days.clone(),
                    ..(*x).clone()
                } == r
        });
        match same_but_days {
            Some(x) => x.days.extend(r.days),
            None => rules.push(r),
        }
    }
    rules.iter().max_by_key(|r| r.weight()).map(Rule::render)
}
