//! Live items in the log: a show's source airing in its `play = "live"` slot is one `live`
//! airing of the slot's frames, with its show and occurrence; an operator's override
//! ("direct spécial") is one `special` airing of exactly its frames, and the bed it cut is
//! two airings, the second from the file's frame where the programme resumed.

use std::sync::Arc;
use std::time::Duration;

use antenne::catalog::AirKind;
use antenne::playout::airplay::{AirplayWriter, WriterConfig};
use antenne::playout::{LiveBuffer, LiveInputs, ManualClock, PlayoutConfig, Takeover, Timebase};
use antenne::schedule::{NoFacts, Schedule};
use antenne_testkit::playout::{R, ts};
use jiff::SignedDuration;

use super::day::{DAY, EDGE, RunSink, SCHEDULE, Station, station};

/// Runs the playout of `st` with `inputs` from `from` to `to` on a manual clock, with the
/// airplay log kept, and returns what the log holds for that span.
fn air(
    st: &Station,
    inputs: &LiveInputs,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) -> Vec<antenne::catalog::AirplayEntry> {
    let clock = Arc::new(ManualClock::auto_advance(from));
    let (airplay, writer) = AirplayWriter::start(
        st.catalog.clone(),
        WriterConfig {
            sample_rate: R,
            media_dir: st.media.clone(),
            data_dir: st.catalog.data_dir().to_path_buf(),
            clock: clock.clone(),
        },
    )
    .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let config = PlayoutConfig {
        sample_rate: R,
        media_dir: st.media.clone(),
        block_frames: 256,
        edge_fade: Duration::from_millis(EDGE),
        wait_for_data: true,
        run_until: Some(to),
        live: inputs.clone(),
        airplay,
        ..PlayoutConfig::default()
    };
    antenne::playout::start(
        config,
        rx,
        st.catalog.clone(),
        Box::new(RunSink::default()),
        clock,
    )
    .unwrap()
    .join();
    writer.stop();
    st.catalog.airplay_between(from, to).unwrap()
}

#[test]
fn an_override_is_one_special_airing_and_cuts_the_bed_in_two() {
    let st = station();
    let (from, to) = (ts("2027-03-03T12:00:00Z"), ts("2027-03-03T12:02:00Z"));
    let (since, until) = (
        from + SignedDuration::from_secs(5),
        from + SignedDuration::from_secs(25),
    );
    let inputs = LiveInputs::new(["live"], LiveBuffer::unprimed(R as usize));
    let input = inputs.get("live").unwrap().clone();
    let _source = input.connect().unwrap();
    input.set_takeover(Some(Takeover {
        since,
        until: Some(until),
    }));
    let log = air(&st, &inputs, from, to);
    let tb = Timebase::unix(R);
    let (s, e) = (tb.frame_at(since), tb.frame_at(until));
    let special: Vec<_> = log.iter().filter(|a| a.kind == AirKind::Special).collect();
    let f0 = tb.frame_at(from);
    let brief: Vec<_> = log
        .iter()
        .map(|a| (a.start_frame - f0, a.frames, a.path.clone()))
        .collect();
    assert_eq!(special.len(), 1, "{brief:?}");
    assert_eq!(
        (special[0].start_frame, special[0].frames),
        (s, Some(e - s))
    );
    assert_eq!(special[0].path, None);
    // The airing before ends on the override's first frame, the one after starts on its end,
    // in the same file, from the frame the programme had reached.
    let i = log.iter().position(|a| a.kind == AirKind::Special).unwrap();
    let (before, after) = (&log[i - 1], &log[i + 1]);
    assert_eq!(before.start_frame + before.frames.unwrap(), s);
    assert_eq!(after.start_frame, e);
    assert_eq!(before.path, after.path, "{brief:?}");
    assert!(before.kind == AirKind::Bed && after.kind == AirKind::Bed);
    // Back to back over the two minutes.
    for w in log.windows(2) {
        assert_eq!(w[0].start_frame + w[0].frames.unwrap(), w[1].start_frame);
    }
    let total: u64 = log.iter().map(|a| a.frames.unwrap()).sum();
    assert_eq!(log[0].start_frame, tb.frame_at(from));
    assert_eq!(total, tb.frame_at(to) - tb.frame_at(from));
}

/// The simulated day's schedule with a one-minute live show at 13:00 (Paris) on Wednesdays.
const LIVE_SLOT: &str = r#"
[[show]]
slug = "en-direct"
title = "En direct des Ors"

[[slot]]
id = "direct"
show = "en-direct"
days = ["wed"]
start = "13:00"
duration = "1m"
play = "live"
"#;

#[test]
fn a_source_in_its_live_slot_is_one_live_airing_of_the_slot() {
    let mut st = station();
    let text = format!("{SCHEDULE}{LIVE_SLOT}");
    let (schedule, _) =
        Schedule::parse(&text, "day.toml", ts(DAY.0), &NoFacts).unwrap_or_else(|d| panic!("{d:?}"));
    st.schedule = Arc::new(schedule);
    // 12:59:30 to 13:01:30 in Paris (UTC+1 in March), the slot 13:00 to 13:01.
    let (from, to) = (ts("2027-03-03T11:59:30Z"), ts("2027-03-03T12:01:30Z"));
    let (slot_start, slot_end) = (ts("2027-03-03T12:00:00Z"), ts("2027-03-03T12:01:00Z"));
    let inputs = LiveInputs::new(["live"], LiveBuffer::unprimed(R as usize));
    let source = inputs.get("live").unwrap().connect().unwrap();
    // Some of the show's audio is there; the rest of the minute is the source's underrun,
    // still the live show on air.
    source.write(&vec![0.25; 2 * R as usize]);
    let log = air(&st, &inputs, from, to);
    let tb = Timebase::unix(R);
    let f0 = tb.frame_at(from);
    let brief: Vec<_> = log
        .iter()
        .map(|a| (a.start_frame - f0, a.frames, a.kind, a.path.clone()))
        .collect();
    let live: Vec<_> = log.iter().filter(|a| a.kind == AirKind::Live).collect();
    assert_eq!(live.len(), 1, "{brief:?}");
    let (s, e) = (tb.frame_at(slot_start), tb.frame_at(slot_end));
    let a = live[0];
    assert_eq!((a.start_frame, a.frames), (s, Some(e - s)), "{brief:?}");
    assert_eq!(a.seconds(), 60.0);
    assert_eq!((a.started_at, a.ended_at), (slot_start, Some(slot_end)));
    assert_eq!(a.show.as_deref(), Some("en-direct"));
    assert_eq!(a.show_title, "En direct des Ors");
    assert!(
        a.occurrence_id
            .as_deref()
            .is_some_and(|o| o.starts_with("direct")),
        "{:?}",
        a.occurrence_id
    );
    assert_eq!((a.path.as_deref(), a.sha256.as_deref()), (None, None));
    // The fallback before ends on the slot's first frame, the one after starts on its end;
    // the two minutes are back to back.
    for w in log.windows(2) {
        assert_eq!(
            w[0].start_frame + w[0].frames.unwrap(),
            w[1].start_frame,
            "{brief:?}"
        );
    }
    let total: u64 = log.iter().map(|a| a.frames.unwrap()).sum();
    assert_eq!(total, tb.frame_at(to) - f0);
    // A live show has no file: in the detailed log, not in the declaration's summary.
    assert!(
        antenne::catalog::summarise(&log)
            .iter()
            .all(|t| t.kind != AirKind::Live),
        "{brief:?}"
    );
    drop(source);
}
