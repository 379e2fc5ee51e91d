//! Properties: a schedule that passes `check` never yields overlapping occurrences, and every
//! occurrence starts at its declared wall time, or that time moved forward by the DST gap.

use antenne::schedule::{NoFacts, Schedule, WallShift};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const ZONES: [&str; 4] = [
    "Europe/Paris",
    "Australia/Sydney",
    "America/New_York",
    "UTC",
];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone)]
struct SlotGen {
    days: u8,
    hour: u8,
    minute: u8,
    minutes: u16,
    cron: bool,
    odd: bool,
}

fn slot_gen() -> impl Strategy<Value = SlotGen> {
    (
        1u8..128,
        0u8..24,
        prop::sample::select(vec![0u8, 15, 30, 45]),
        5u16..300,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(days, hour, minute, minutes, cron, odd)| SlotGen {
            days,
            hour,
            minute,
            minutes,
            cron,
            odd,
        })
}

fn render(zone: &str, slots: &[SlotGen]) -> String {
    let mut s = format!(
        "[station]\nname = \"P\"\ntimezone = \"{zone}\"\n\n[[show]]\nslug = \"s\"\ntitle = \"S\"\n\n"
    );
    for g in slots {
        let days: Vec<&str> = (0..7)
            .filter(|i| g.days & (1 << i) != 0)
            .map(|i| DAYS[i])
            .collect();
        s.push_str("[[slot]]\nshow = \"s\"\n");
        if g.cron {
            s.push_str(&format!(
                "cron = \"{} {} * * {}\"\n",
                g.minute,
                g.hour,
                days.join(",")
            ));
        } else {
            let quoted: Vec<String> = days.iter().map(|d| format!("\"{d}\"")).collect();
            s.push_str(&format!(
                "days = [{}]\nstart = \"{:02}:{:02}\"\n",
                quoted.join(", "),
                g.hour,
                g.minute
            ));
        }
        if g.odd {
            s.push_str("weeks = \"odd\"\n");
        }
        s.push_str(&format!("duration = \"{}m\"\n\n", g.minutes));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn valid_schedules_never_overlap_and_start_on_their_wall_time(
        zone in prop::sample::select(ZONES.to_vec()),
        slots in prop::collection::vec(slot_gen(), 1..4),
        day in 0i64..365,
    ) {
        let src = render(zone, &slots);
        let now = Timestamp::from_second(1_767_225_600 + day * 86_400).unwrap(); // from 2026-01-01
        let Ok((s, _)) = Schedule::parse(&src, "p.toml", now, &NoFacts) else {
            return Ok(()); // rejected: nothing to check
        };
        let to = now.checked_add(SignedDuration::from_hours(24 * 366)).unwrap();
        let occ = s.occurrences(now, to);
        for pair in occ.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "overlap: {:?} / {:?}\n{src}", pair[0], pair[1]);
        }
        let tz = &s.station().timezone;
        for o in &occ {
            let local = tz.to_datetime(o.start);
            match o.shift {
                WallShift::None | WallShift::Fold => prop_assert_eq!(local, o.wall),
                WallShift::Gap(g) => prop_assert_eq!(local, o.wall.checked_add(g).unwrap()),
            }
            if o.shift == WallShift::Fold {
                // The first of the two: an hour earlier is not the same wall time.
                let earlier = o.start.checked_sub(SignedDuration::from_hours(1)).unwrap();
                prop_assert_ne!(tz.to_datetime(earlier), o.wall);
            }
        }
    }
}
