//! Schedule benchmark: a year of the demo station's timeline, and `check` of a generated
//! 500-slot schedule, each against the `cron` crate's own iteration over the same rules
//! (naive UTC, no time zone, no exceptions, no validation) as the named baseline.
//!
//! Run with `cargo bench --bench schedule`; prints medians and ratios.

use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

use antenne::schedule::{NoFacts, Recurrence, Schedule};
use chrono::TimeZone as _;
use jiff::Timestamp;

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    f(); // warm up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// The same rules as cron expressions for the baseline: weekly slots become `0 M H * * Days`.
fn cron_rules(s: &Schedule) -> Vec<cron::Schedule> {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut out = Vec::new();
    for slot in s.slots() {
        match &slot.recurrence {
            Recurrence::Weekly { days, start } => {
                let d: Vec<&str> = (0..7).filter(|&i| days[i]).map(|i| NAMES[i]).collect();
                let e = format!(
                    "{} {} {} * * {}",
                    start.second(),
                    start.minute(),
                    start.hour(),
                    d.join(",")
                );
                out.push(cron::Schedule::from_str(&e).unwrap());
            }
            Recurrence::Cron { tab, .. } => out.extend(tab.schedules.iter().cloned()),
        }
    }
    out
}

fn cron_year(rules: &[cron::Schedule]) -> usize {
    let from = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let to = chrono::Utc.with_ymd_and_hms(2027, 1, 2, 0, 0, 0).unwrap();
    rules
        .iter()
        .map(|r| r.after(&from).take_while(|t| *t < to).count())
        .sum()
}

fn generated(slots: usize) -> String {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut s = String::from("[station]\nname = \"Bench\"\ntimezone = \"Europe/Paris\"\n\n");
    for i in 0..50 {
        s.push_str(&format!(
            "[[show]]\nslug = \"show-{i}\"\ntitle = \"Show {i}\"\n\n"
        ));
    }
    for i in 0..slots {
        // 15-minute slots packed into each day, skipping 02:00-03:00: starts in the
        // spring-forward gap would move onto the next slot, and check refuses that overlap.
        let day = i % 7;
        let k = i / 7;
        let h = if k / 4 < 2 { k / 4 } else { k / 4 + 1 };
        let m = (k % 4) * 15;
        s.push_str(&format!("[[slot]]\nshow = \"show-{}\"\n", i % 50));
        if i % 5 == 0 {
            s.push_str(&format!("cron = \"{m} {h} * * {}\"\n", (day + 1) % 7));
        } else {
            s.push_str(&format!(
                "days = [\"{}\"]\nstart = \"{h:02}:{m:02}\"\n",
                DAYS[day]
            ));
        }
        s.push_str("duration = \"15m\"\n\n");
    }
    s
}

fn main() {
    let now: Timestamp = "2026-01-01T00:00:00+01:00".parse().unwrap();
    let year_end: Timestamp = "2027-01-01T00:00:00+01:00".parse().unwrap();

    let demo_text =
        std::fs::read_to_string("schedules/weekly.toml").expect("run from the repository root");
    let (demo, _) =
        Schedule::parse(&demo_text, "weekly.toml", now, &NoFacts).expect("demo is valid");
    let n = demo.occurrences(now, year_end).len();
    let ours = median(
        || {
            drop(black_box(
                demo.occurrences(black_box(now), black_box(year_end)),
            ))
        },
        51,
    );
    let rules = cron_rules(&demo);
    let base_n = cron_year(&rules);
    let base = median(
        || {
            black_box(cron_year(black_box(&rules)));
        },
        51,
    );
    println!(
        "schedule benchmark (median of 51 runs; baseline: cron 0.17 iterating the same rules over naive UTC)"
    );
    println!();
    println!("| case | antenne | occurrences | cron baseline | baseline count | ratio | target |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| demo station, 2026 timeline | {:.3} ms | {n} | {:.3} ms | {base_n} | {:.2}x | < 5 ms |",
        ours.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e3,
        ours.as_secs_f64() / base.as_secs_f64()
    );

    let text = generated(500);
    let (big, _) =
        Schedule::parse(&text, "bench.toml", now, &NoFacts).expect("generated schedule is valid");
    assert_eq!(big.slots().len(), 500);
    let check = median(
        || {
            drop(black_box(Schedule::parse(
                black_box(&text),
                "bench.toml",
                now,
                &NoFacts,
            )))
        },
        11,
    );
    let big_n = big
        .occurrences(
            now,
            now.checked_add(jiff::SignedDuration::from_hours(24 * 366))
                .unwrap(),
        )
        .len();
    let rules = cron_rules(&big);
    let base_n = cron_year(&rules);
    let base = median(
        || {
            black_box(cron_year(black_box(&rules)));
        },
        11,
    );
    println!(
        "| check of 500 slots (parse, validate, 366-day overlap scan) | {:.1} ms | {big_n} | {:.1} ms | {base_n} | {:.2}x | < 100 ms |",
        check.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e3,
        check.as_secs_f64() / base.as_secs_f64()
    );
}
